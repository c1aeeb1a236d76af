/**
 * The container process, docker's rules: argv from Entrypoint/Cmd, the environment, the working directory and
 * the user (`-u`) resolved against the image's /etc/passwd and /etc/group. Pure: file contents and the host
 * environment are passed in.
 */
import path from 'node:path';
import { UsageError } from '../errors.js';
import type { ContainerConfig } from '../image/manifest.js';
import { DEFAULT_PATH_ENV, DEFAULT_RLIMIT } from './defaults.js';
import { RLIM_INFINITY, type POSIXRlimit, type RlimitType } from './types.js';

// ---------------------------------------------------------------------------------------------------------
// argv

export interface ArgsOptions {
  /** Config.Entrypoint: undefined/null = the image's; `[""]` = cleared (docker's `--entrypoint ''`) */
  entrypoint?: readonly string[] | null;
  /** the arguments after the image name */
  command: readonly string[];
}

/**
 * docker's merge (moby daemon/commit.go merge + create.go mergeAndVerifyConfig):
 * - no `--entrypoint`: the image's Entrypoint, then the command or, when none is given, the image's Cmd;
 * - `--entrypoint X`: [X, ...command]; the image's Cmd is dropped even when no command is given;
 * - `--entrypoint ''`: no entrypoint and the image's Cmd is dropped too: only the command runs;
 * - nothing left: "no command specified".
 */
export function resolveArgs(image: ContainerConfig | undefined, opts: ArgsOptions): string[] {
  const userEntrypoint = opts.entrypoint ?? undefined;
  let cmd: readonly string[] = opts.command;
  let entrypoint: readonly string[] | null | undefined = userEntrypoint;
  if (entrypoint === undefined) {
    if (cmd.length === 0) cmd = image?.Cmd ?? [];
    entrypoint = image?.Entrypoint ?? [];
  }
  if (entrypoint.length === 1 && entrypoint[0] === '') entrypoint = [];
  if (entrypoint.length === 0 && cmd.length === 0) throw new UsageError('no command specified');
  return [...entrypoint, ...cmd];
}

// ---------------------------------------------------------------------------------------------------------
// environment

const keyOf = (entry: string): string => {
  const eq = entry.indexOf('=');
  return eq < 0 ? entry : entry.slice(0, eq);
};

/** Later entries win, keeping the position of the first occurrence of each key. */
function dedupe(entries: readonly string[]): string[] {
  const out: string[] = [];
  const at = new Map<string, number>();
  for (const e of entries) {
    const k = keyOf(e);
    const i = at.get(k);
    if (i === undefined) {
      at.set(k, out.length);
      out.push(e);
    } else {
      out[i] = e;
    }
  }
  return out;
}

export interface EnvInput {
  imageEnv?: readonly string[] | null;
  /** from userEnvironment() */
  userEnv: readonly string[];
  hostname: string;
  tty: boolean;
  /** the user's home (ExecUser.home), added as HOME when the environment has none (runc does this) */
  home: string;
}

/**
 * The container's environment, in docker's order:
 * 1. the user's entries (env files then -e), then the image's entries the user did not name (moby merge());
 * 2. laid over `PATH=<default>`, `HOSTNAME=<hostname>`, `TERM=xterm` (with -t): an entry with one of those keys
 *    replaces it in place, others are appended, a bare `K` removes K (moby ReplaceOrAppendEnvValues);
 * 3. `HOME=<home>` appended when absent (runc).
 * Unlike docker, a key given twice appears once (the last value), at its first position.
 */
export function mergeEnv(input: EnvInput): string[] {
  const user = dedupe(input.userEnv);
  const userKeys = new Set(user.map(keyOf));
  const config = [...user, ...dedupe(input.imageEnv ?? []).filter((e) => !userKeys.has(keyOf(e)))];
  const defaults = [`PATH=${DEFAULT_PATH_ENV}`, `HOSTNAME=${input.hostname}`, ...(input.tty ? ['TERM=xterm'] : [])];
  const env: (string | undefined)[] = [...defaults];
  for (const entry of config) {
    const k = keyOf(entry);
    const i = env.findIndex((e) => e !== undefined && keyOf(e) === k);
    if (!entry.includes('=')) {
      if (i >= 0) env[i] = undefined;
      continue;
    }
    if (i >= 0) env[i] = entry;
    else env.push(entry);
  }
  const out = env.filter((e): e is string => e !== undefined);
  if (!out.some((e) => keyOf(e) === 'HOME')) out.push(`HOME=${input.home}`);
  return out;
}

/** The value of `key` in an environment list (the first entry wins, as getenv). */
export function envValue(env: readonly string[], key: string): string | undefined {
  for (const e of env) if (keyOf(e) === key && e.includes('=')) return e.slice(key.length + 1);
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------
// working directory

/** `-w`, else the image's WorkingDir, else `/`; must be absolute (docker's check), returned cleaned. */
export function resolveWorkdir(flag: string | undefined, imageWorkdir: string | undefined): string {
  const dir = flag !== undefined && flag !== '' ? flag : imageWorkdir !== undefined && imageWorkdir !== '' ? imageWorkdir : '/';
  if (!dir.startsWith('/')) throw new UsageError(`the working directory '${dir}' is invalid, it needs to be an absolute path`);
  return path.posix.normalize(dir).replace(/(.)\/+$/, '$1');
}

// ---------------------------------------------------------------------------------------------------------
// users and groups

export interface PasswdEntry {
  name: string;
  password: string;
  uid: number;
  gid: number;
  gecos: string;
  home: string;
  shell: string;
}

export interface GroupEntry {
  name: string;
  password: string;
  gid: number;
  members: string[];
}

export interface ExecUser {
  uid: number;
  gid: number;
  /** the primary gid first, then the groups the user is listed in (implicit form only), then --group-add */
  additionalGids: number[];
  home: string;
  /** the passwd name when the user was found there */
  username?: string;
}

const MAX_ID = 2147483647;

/** Go's strconv.Atoi accepts an optional sign and decimal digits only */
function atoi(s: string): number | undefined {
  return /^[+-]?\d+$/.test(s) ? Number(s) : undefined;
}

function parseFields(content: string): string[][] {
  const out: string[][] = [];
  for (const raw of content.split('\n')) {
    const line = raw.trim();
    // comments are not valid passwd/group syntax; skipping them avoids a "#..." line parsing as uid 0
    if (line === '' || line.startsWith('#')) continue;
    out.push(line.split(':'));
  }
  return out;
}

/** /etc/passwd content (moby/sys/user rules: unparsable numbers read as 0). */
export function parsePasswd(content: string): PasswdEntry[] {
  return parseFields(content).map((f) => ({
    name: f[0] ?? '',
    password: f[1] ?? '',
    uid: atoi(f[2] ?? '') ?? 0,
    gid: atoi(f[3] ?? '') ?? 0,
    gecos: f[4] ?? '',
    home: f[5] ?? '',
    shell: f[6] ?? '',
  }));
}

/** /etc/group content. */
export function parseGroup(content: string): GroupEntry[] {
  return parseFields(content).map((f) => ({
    name: f[0] ?? '',
    password: f[1] ?? '',
    gid: atoi(f[2] ?? '') ?? 0,
    members: (f[3] ?? '').split(',').filter((m) => m !== ''),
  }));
}

function checkRange(id: number): number {
  if (id < 0 || id > MAX_ID) throw new UsageError(`uids and gids must be in range 0-${MAX_ID}`);
  return id;
}

/**
 * Resolve `-u` (or the image's User) like runc/moby's user.GetExecUser:
 * `''` → uid 0; `uid`, `name`, `uid:gid`, `name:group`, `uid:group`, `name:gid`.
 * - a name must be in passwd ("unable to find user app: no matching entries in passwd file"); a number need not
 *   be (then gid 0 and home `/`, unless `:gid` is given);
 * - a group name must be in /etc/group; a number need not be;
 * - supplementary groups come from /etc/group membership, only when no group was given explicitly;
 * - additionalGids = [gid, ...supplementary, ...groupAdd] (moby ≥ 25 puts the primary gid first), without
 *   duplicates.
 * `passwd`/`group` undefined = the file is absent from the image.
 */
export function resolveUser(spec: string, files: { passwd?: string; group?: string }, groupAdd: readonly string[] = []): ExecUser {
  const colon = spec.indexOf(':');
  const userArg = colon < 0 ? spec : spec.slice(0, colon);
  const groupArg = colon < 0 ? '' : spec.slice(colon + 1).split(':')[0]!;
  const uidArg = atoi(userArg);
  const gidArg = atoi(groupArg);

  let uid = 0;
  let gid = 0;
  let home = '/';
  let username: string | undefined;

  const users = files.passwd === undefined ? [] : parsePasswd(files.passwd);
  const match = users.find((u) => (userArg === '' ? u.uid === 0 : uidArg !== undefined ? u.uid === uidArg : u.name === userArg));
  if (match) {
    uid = match.uid;
    gid = match.gid;
    home = match.home;
    username = match.name;
  } else if (userArg !== '') {
    if (uidArg === undefined) throw new UsageError(`unable to find user ${userArg}: no matching entries in passwd file`);
    uid = checkRange(uidArg);
  }

  const groups = files.group === undefined ? [] : parseGroup(files.group);
  let supplementary: number[] = [];
  if (groupArg !== '') {
    const g = groups.find((e) => (gidArg !== undefined ? e.gid === gidArg : e.name === groupArg));
    if (g) gid = g.gid;
    else if (gidArg === undefined) throw new UsageError(`unable to find group ${groupArg}: no matching entries in group file`);
    else gid = checkRange(gidArg);
  } else if (username !== undefined) {
    supplementary = groups.filter((g) => g.members.includes(username!)).map((g) => g.gid);
  }

  const added = groupAdd.map((ag) => {
    const g = groups.find((e) => e.name === ag || String(e.gid) === ag);
    if (g) return g.gid;
    const n = atoi(ag);
    if (n === undefined) throw new UsageError(`unable to find group ${ag}: no matching entries in group file`);
    return checkRange(n);
  });

  const additionalGids = [...new Set([gid, ...supplementary, ...added])];
  return { uid, gid, additionalGids, home: home || '/', ...(username !== undefined ? { username } : {}) };
}

// ---------------------------------------------------------------------------------------------------------
// rlimits

/** docker's `--ulimit` names */
const ULIMIT_NAMES: Readonly<Record<string, RlimitType>> = {
  as: 'RLIMIT_AS',
  core: 'RLIMIT_CORE',
  cpu: 'RLIMIT_CPU',
  data: 'RLIMIT_DATA',
  fsize: 'RLIMIT_FSIZE',
  locks: 'RLIMIT_LOCKS',
  memlock: 'RLIMIT_MEMLOCK',
  msgqueue: 'RLIMIT_MSGQUEUE',
  nice: 'RLIMIT_NICE',
  nofile: 'RLIMIT_NOFILE',
  nproc: 'RLIMIT_NPROC',
  rss: 'RLIMIT_RSS',
  rtprio: 'RLIMIT_RTPRIO',
  rttime: 'RLIMIT_RTTIME',
  sigpending: 'RLIMIT_SIGPENDING',
  stack: 'RLIMIT_STACK',
};

/** docker's units.Ulimit (HostConfig.Ulimits); -1 is unlimited. container/request.ts re-exports it. */
export interface Ulimit {
  Name: string;
  Soft: number;
  Hard: number;
}

/** One of HostConfig.Ulimits as a spec rlimit, with go-units' checks: a known name, soft not above hard. */
export function rlimitOf(u: Ulimit): POSIXRlimit {
  const name = u.Name;
  const type = Object.prototype.hasOwnProperty.call(ULIMIT_NAMES, name) ? ULIMIT_NAMES[name] : undefined;
  if (type === undefined) throw new UsageError(`invalid ulimit type: ${name}`);
  const { Soft: soft, Hard: hard } = u;
  if (!Number.isSafeInteger(soft) || !Number.isSafeInteger(hard)) throw new UsageError(`invalid ulimit value for ${name}: ${soft}:${hard}`);
  if (hard !== -1) {
    if (soft === -1) throw new UsageError(`ulimit soft limit must be less than or equal to hard limit: soft: -1 (unlimited), hard: ${hard}`);
    if (soft > hard) throw new UsageError(`ulimit soft limit must be less than or equal to hard limit: ${soft} > ${hard}`);
  }
  if (soft < -1 || hard < -1) throw new UsageError(`invalid ulimit value for ${name}: limits are -1 (unlimited) or positive`);
  const lim = (n: number) => (n === -1 ? RLIM_INFINITY : n);
  return { type, hard: lim(hard), soft: lim(soft) };
}

export interface RlimitContext {
  /** the current RLIMIT_NOFILE hard limit: never raised above (no CAP_SYS_RESOURCE) */
  hardNofile?: number;
  /** the current RLIMIT_NPROC hard limit, likewise */
  hardNproc?: number;
}

/**
 * The process rlimits: podman's defaults RLIMIT_NOFILE and RLIMIT_NPROC = 1048576 (soft = hard), each capped
 * to the current hard limit when the caller passes it; then the `--ulimit`s (replacing a default of the same
 * type in place, later flags winning). A `--ulimit` above a known current hard limit is refused: raising a hard
 * limit needs CAP_SYS_RESOURCE, which tsdock does not have.
 */
export function resolveRlimits(ulimits: readonly Ulimit[], ctx: RlimitContext): POSIXRlimit[] {
  const capped = (n: number | undefined) => (n === undefined ? DEFAULT_RLIMIT : Math.min(DEFAULT_RLIMIT, n));
  const out: POSIXRlimit[] = [
    { type: 'RLIMIT_NOFILE', hard: capped(ctx.hardNofile), soft: capped(ctx.hardNofile) },
    { type: 'RLIMIT_NPROC', hard: capped(ctx.hardNproc), soft: capped(ctx.hardNproc) },
  ];
  for (const u of ulimits) {
    const r = rlimitOf(u);
    const known = r.type === 'RLIMIT_NOFILE' ? ctx.hardNofile : r.type === 'RLIMIT_NPROC' ? ctx.hardNproc : undefined;
    if (known !== undefined && r.hard > known) {
      const shown = r.hard === RLIM_INFINITY ? 'unlimited' : String(r.hard);
      throw new UsageError(`--ulimit ${u.Name}=${u.Soft}${u.Hard === u.Soft ? '' : `:${u.Hard}`}: hard limit ${shown} is above the current hard limit ${known} (raising it needs CAP_SYS_RESOURCE)`);
    }
    const i = out.findIndex((o) => o.type === r.type);
    if (i >= 0) out[i] = r;
    else out.push(r);
  }
  return out;
}
