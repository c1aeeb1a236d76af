/**
 * `-v/--volume`, `--mount` and `--tmpfs` parsing with docker's rules and error wording (docker/cli opts/mount.go,
 * moby volume/mounts/linux_parser.go). The result is a list of MountRequests that the caller resolves (named
 * and anonymous volumes → host directories, bind sources checked or created) into ResolvedMounts for
 * buildSpec. Pure: nothing here looks at the host.
 */
import path from 'node:path';
import { UsageError } from '../errors.js';
import { parseGoBool as parseBool, ramInBytes } from './units.js';

export type MountType = 'bind' | 'volume' | 'tmpfs';

export interface MountRequest {
  type: MountType;
  /**
   * bind: absolute host path; volume: the volume's name, absent for an anonymous volume; tmpfs: absent
   */
  source?: string;
  /** absolute, cleaned container path */
  target: string;
  readonly: boolean;
  /**
   * Extra options, as OCI mount option words:
   * - bind: a propagation mode (`rprivate`, `rshared`, `rslave`, `private`, `shared`, `slave`) when given;
   *   `bind` for a non-recursive bind (`bind-nonrecursive`); SELinux `z`/`Z` (kept so buildSpec can warn);
   * - volume: `nocopy` (do not seed a new volume from the image: the caller's concern);
   * - tmpfs: filesystem options and flags (`size=64m`, `mode=1777`, `exec`, ...), without `ro`/`rw`.
   */
  options: string[];
  /** -v only: a missing bind source is created as a directory (docker); --mount reports it instead */
  createSource?: boolean;
}

/** A MountRequest after the caller resolved it: `source` is a host path for bind and volume mounts. */
export interface ResolvedMount extends MountRequest {
  /** what the host source is; the mount point in the container is created as the same kind (default 'dir') */
  sourceType?: 'dir' | 'file';
  /** for volumes: the volume's name (anonymous ones included), for messages */
  volumeName?: string;
}

const PROPAGATION_MODES = ['private', 'rprivate', 'slave', 'rslave', 'shared', 'rshared'];
const RW_MODES = ['rw', 'ro'];
const LABEL_MODES = ['z', 'Z'];
const COPY_MODES = ['nocopy'];
const CONSISTENCY_MODES = ['consistent', 'cached', 'delegated'];

/** docker's local volume driver name rule */
export const VOLUME_NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

function validMountMode(mode: string): boolean {
  if (mode === '') return true;
  const counts = [0, 0, 0, 0, 0];
  for (const o of mode.split(',')) {
    const i = [RW_MODES, LABEL_MODES, PROPAGATION_MODES, COPY_MODES, CONSISTENCY_MODES].findIndex((set) => set.includes(o));
    if (i < 0) return false;
    counts[i]!++;
  }
  return counts.every((c) => c <= 1);
}

class MountConfigError extends UsageError {
  constructor(type: string, detail: string) {
    super(`invalid mount config for type "${type}": ${detail}`);
  }
}

/** path.Clean for absolute container or host paths: normalized, no trailing slash */
function cleanTarget(p: string): string {
  return path.posix.normalize(p).replace(/(.)\/+$/, '$1');
}

/** moby validateMountConfigImpl, minus the bind-source existence check (the caller does it on the host). */
function validateRequest(m: MountRequest, flags: { nonRecursive?: boolean; volumeOptions?: boolean; bindOptions?: boolean; tmpfsOptions?: boolean }): void {
  if (m.target === '') throw new MountConfigError(m.type, 'field Target must not be empty');
  if (cleanTarget(m.target) === '/') throw new MountConfigError(m.type, "invalid specification: destination can't be '/'");
  if (!m.target.startsWith('/')) throw new MountConfigError(m.type, `invalid mount path: '${m.target}' mount path must be absolute`);
  switch (m.type) {
    case 'bind':
      if (!m.source) throw new MountConfigError(m.type, 'field Source must not be empty');
      if (flags.volumeOptions) throw new MountConfigError(m.type, 'field VolumeOptions must not be specified');
      if (!m.source.startsWith('/')) throw new MountConfigError(m.type, `invalid mount path: '${m.source}' mount path must be absolute`);
      break;
    case 'volume':
      if (flags.bindOptions) throw new MountConfigError(m.type, 'field BindOptions must not be specified');
      if (m.readonly && !m.source) throw new MountConfigError(m.type, 'must not set ReadOnly mode when using anonymous volumes');
      if (m.source && !VOLUME_NAME_PATTERN.test(m.source)) {
        throw new UsageError(
          `create ${m.source}: "${m.source}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`,
        );
      }
      break;
    case 'tmpfs':
      if (flags.bindOptions) throw new MountConfigError(m.type, 'field BindOptions must not be specified');
      if (m.source) throw new MountConfigError(m.type, 'field Source must not be specified');
      mergeTmpfsOptions(m.options);
      break;
    default:
      throw new MountConfigError(m.type, 'mount type unknown');
  }
}

/** docker CLI: a bind source starting with "." is made absolute against the caller's working directory. */
function absolutize(source: string, cwd: string | undefined): string {
  if (cwd !== undefined && !source.startsWith('/') && source.startsWith('.')) return path.posix.resolve(cwd, source);
  return source;
}

/**
 * `-v SRC:DST[:OPTS]`, `-v DST` (anonymous volume). SRC absolute (or starting with "." when `cwd` is given) is
 * a bind mount, anything else a named volume. OPTS: at most one each of ro/rw, z/Z, a propagation mode, nocopy,
 * and a consistency mode (accepted, ignored).
 */
export function parseVolumeFlag(raw: string, opts: { cwd?: string } = {}): MountRequest {
  const invalidSpec = () => new UsageError(`invalid volume specification: '${raw}'`);
  const arr = splitN(raw, ':', 4);
  if (arr[0] === '') throw invalidSpec();
  let source = '';
  let target: string;
  let mode = '';
  switch (arr.length) {
    case 1:
      target = arr[0]!;
      break;
    case 2:
      // a destination plus a mode is not a volume: "/foo:rw"
      if (validMountMode(arr[1]!)) throw invalidSpec();
      source = arr[0]!;
      target = arr[1]!;
      break;
    case 3:
      source = arr[0]!;
      target = arr[1]!;
      mode = arr[2]!;
      break;
    default:
      throw invalidSpec();
  }
  if (!validMountMode(mode)) throw new UsageError(`invalid mode: ${mode}`);
  source = absolutize(source, opts.cwd);
  const modes = mode === '' ? [] : mode.split(',');
  const type: MountType = source.startsWith('/') ? 'bind' : 'volume';
  const propagation = modes.find((m) => PROPAGATION_MODES.includes(m));
  const options: string[] = [];
  if (propagation) options.push(propagation);
  for (const m of modes) if (LABEL_MODES.includes(m)) options.push(m);
  if (modes.includes('nocopy')) options.push('nocopy');
  const req: MountRequest = { type, target, readonly: modes.includes('ro'), options };
  if (source !== '') req.source = type === 'bind' ? cleanTarget(source) : source;
  try {
    validateRequest(req, { volumeOptions: type === 'bind' && modes.includes('nocopy'), bindOptions: type === 'volume' && propagation !== undefined });
  } catch (err) {
    if (err instanceof MountConfigError) throw new UsageError(`invalid volume specification: '${raw}': ${err.message}`);
    throw err;
  }
  req.target = cleanTarget(target);
  if (type === 'bind') req.createSource = true;
  return req;
}

/** Go's strings.SplitN */
function splitN(s: string, sep: string, n: number): string[] {
  const out: string[] = [];
  let rest = s;
  while (out.length < n - 1) {
    const i = rest.indexOf(sep);
    if (i < 0) break;
    out.push(rest.slice(0, i));
    rest = rest.slice(i + sep.length);
  }
  out.push(rest);
  return out;
}

/** One CSV record (Go encoding/csv rules: fields may be double-quoted, "" is a literal quote). */
function csvFields(value: string): string[] {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    if (value[i] === '"') {
      i++;
      for (;;) {
        if (i >= value.length) throw new UsageError(`invalid --mount value ${JSON.stringify(value)}: extraneous or missing " in quoted-field`);
        if (value[i] === '"') {
          if (value[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += value[i++];
      }
      if (i < value.length && value[i] !== ',') throw new UsageError(`invalid --mount value ${JSON.stringify(value)}: extraneous or missing " in quoted-field`);
    } else {
      const j = value.indexOf(',', i);
      field = j < 0 ? value.slice(i) : value.slice(i, j);
      i = j < 0 ? value.length : j;
    }
    fields.push(field);
    if (i >= value.length) break;
    i++; // the comma
  }
  return fields;
}

export { ramInBytes };

/** moby ConvertTmpfsOptions: bytes → the largest exact binary suffix */
function sizeOption(bytes: number): string {
  for (const [suffix, div] of [['g', 1024 ** 3], ['m', 1024 ** 2], ['k', 1024]] as const) {
    if (bytes % div === 0) return `size=${bytes / div}${suffix}`;
  }
  return `size=${bytes}`;
}

/**
 * `--mount type=bind|volume|tmpfs,source=,target=,readonly,...` (docker/cli opts/mount.go then the daemon's
 * checks). The default type is volume. Keys: type, source|src, target|dst|destination, readonly|ro[=bool],
 * consistency (ignored), bind-propagation, bind-nonrecursive[=bool], volume-nocopy[=bool], volume-driver
 * (only "local"), tmpfs-size, tmpfs-mode.
 */
export function parseMountFlag(value: string, opts: { cwd?: string } = {}): MountRequest {
  let type = 'volume';
  let source = '';
  let target = '';
  let readonly = false;
  let propagation: string | undefined;
  let nonRecursive = false;
  let nocopy = false;
  let sizeBytes: number | undefined;
  let mode: number | undefined;
  const touched = { volume: false, bind: false, tmpfs: false };
  for (const field of csvFields(value)) {
    const eq = field.indexOf('=');
    const key = eq < 0 ? field : field.slice(0, eq);
    const val = eq < 0 ? '' : field.slice(eq + 1);
    if (eq < 0) {
      switch (key) {
        case 'readonly':
        case 'ro':
          readonly = true;
          continue;
        case 'volume-nocopy':
          nocopy = true;
          touched.volume = true;
          continue;
        case 'bind-nonrecursive':
          nonRecursive = true;
          touched.bind = true;
          continue;
        default:
          throw new UsageError(`invalid field '${field}' must be a key=value pair`);
      }
    }
    const bool = () => {
      const b = parseBool(val);
      if (b === undefined) throw new UsageError(`invalid value for ${key}: ${val}`);
      return b;
    };
    switch (key) {
      case 'type':
        type = val.toLowerCase();
        break;
      case 'source':
      case 'src':
        source = val === '.' || val.startsWith('./') ? absolutize(val, opts.cwd) : val;
        break;
      case 'target':
      case 'dst':
      case 'destination':
        target = val;
        break;
      case 'readonly':
      case 'ro':
        readonly = bool();
        break;
      case 'consistency':
        break;
      case 'bind-propagation':
        propagation = val.toLowerCase();
        touched.bind = true;
        break;
      case 'bind-nonrecursive':
        nonRecursive = bool();
        touched.bind = true;
        break;
      case 'volume-nocopy': {
        const b = parseBool(val);
        if (b === undefined) throw new UsageError(`invalid value for volume-nocopy: ${val}`);
        nocopy = b;
        touched.volume = true;
        break;
      }
      case 'volume-driver':
        touched.volume = true;
        if (val !== 'local' && val !== '') throw new UsageError(`volume driver "${val}" is not supported: only "local" is`);
        break;
      case 'volume-label':
      case 'volume-opt':
      case 'volume-subpath':
        throw new UsageError(`--mount ${key} is not supported`);
      case 'tmpfs-size': {
        const n = ramInBytes(val);
        if (n === undefined) throw new UsageError(`invalid value for ${key}: ${val}`);
        sizeBytes = n;
        touched.tmpfs = true;
        break;
      }
      case 'tmpfs-mode': {
        if (!/^[0-7]+$/.test(val) || parseInt(val, 8) > 0xffffffff) throw new UsageError(`invalid value for ${key}: ${val}`);
        mode = parseInt(val, 8);
        touched.tmpfs = true;
        break;
      }
      default:
        throw new UsageError(`unexpected key '${key}' in '${field}'`);
    }
  }
  if (type === '') throw new UsageError('type is required');
  if (target === '') throw new UsageError('target is required');
  if (touched.volume && type !== 'volume') throw new UsageError(`cannot mix 'volume-*' options with mount type '${type}'`);
  if (touched.bind && type !== 'bind') throw new UsageError(`cannot mix 'bind-*' options with mount type '${type}'`);
  if (touched.tmpfs && type !== 'tmpfs') throw new UsageError(`cannot mix 'tmpfs-*' options with mount type '${type}'`);
  if (type !== 'bind' && type !== 'volume' && type !== 'tmpfs') throw new MountConfigError(type, 'mount type unknown');
  if (propagation !== undefined && !PROPAGATION_MODES.includes(propagation)) throw new MountConfigError(type, `invalid propagation mode: ${propagation}`);

  const options: string[] = [];
  if (type === 'bind') {
    if (nonRecursive) options.push('bind');
    if (propagation) options.push(propagation);
  } else if (type === 'volume') {
    if (nocopy) options.push('nocopy');
  } else {
    if (mode !== undefined) options.push(`mode=${mode.toString(8)}`);
    if (sizeBytes !== undefined && sizeBytes !== 0) options.push(sizeOption(sizeBytes));
  }
  const req: MountRequest = { type, target, readonly, options };
  if (source !== '') req.source = type === 'bind' && source.startsWith('/') ? cleanTarget(source) : source;
  validateRequest(req, {});
  req.target = cleanTarget(target);
  return req;
}

/**
 * `--tmpfs /path[:opts]`: opts are tmpfs options and mount flags (docker's list: size=, mode=, uid=, gid=,
 * nr_inodes=, nr_blocks=, mpol=, and flags such as ro, exec, noexec, nosuid...).
 */
export function parseTmpfsFlag(value: string): MountRequest {
  const colon = value.indexOf(':');
  const target = colon < 0 ? value : value.slice(0, colon);
  const raw = colon < 0 ? [] : value.slice(colon + 1).split(',').filter((o) => o !== '');
  if (target === '' || !target.startsWith('/')) throw new UsageError(`invalid mount path: '${target}' mount path must be absolute`);
  if (cleanTarget(target) === '/') throw new UsageError("invalid specification: destination can't be '/'");
  mergeTmpfsOptions(raw);
  let readonly = false;
  for (const o of raw) {
    if (o === 'ro') readonly = true;
    if (o === 'rw') readonly = false;
  }
  return { type: 'tmpfs', target: cleanTarget(target), readonly, options: raw.filter((o) => o !== 'ro' && o !== 'rw') };
}

/** mount flag words moby's MergeTmpfsOptions knows, each with the flag it sets or clears (for collisions) */
const TMPFS_FLAG_KEYS: Readonly<Record<string, string>> = {
  ro: 'rdonly',
  rw: 'rdonly',
  suid: 'nosuid',
  nosuid: 'nosuid',
  dev: 'nodev',
  nodev: 'nodev',
  exec: 'noexec',
  noexec: 'noexec',
  sync: 'sync',
  async: 'sync',
  dirsync: 'dirsync',
  remount: 'remount',
  mand: 'mand',
  nomand: 'mand',
  atime: 'noatime',
  noatime: 'noatime',
  diratime: 'nodiratime',
  nodiratime: 'nodiratime',
  relatime: 'relatime',
  norelatime: 'relatime',
  strictatime: 'strictatime',
  nostrictatime: 'strictatime',
  bind: 'propagation',
  rbind: 'propagation',
  unbindable: 'propagation',
  runbindable: 'propagation',
  private: 'propagation',
  rprivate: 'propagation',
  shared: 'propagation',
  rshared: 'propagation',
  slave: 'propagation',
  rslave: 'propagation',
};

const TMPFS_DATA_KEYS = ['size', 'mode', 'uid', 'gid', 'nr_inodes', 'nr_blocks', 'mpol'];

/**
 * moby MergeTmpfsOptions: later options win over earlier ones that set the same flag (all propagation modes
 * count as one) or the same data key; `defaults` is dropped; anything else is an error.
 */
export function mergeTmpfsOptions(options: readonly string[]): string[] {
  const seenFlags = new Set<string>();
  const seenData = new Set<string>();
  const out: string[] = [];
  for (let i = options.length - 1; i >= 0; i--) {
    const option = options[i]!;
    if (option === 'defaults') continue;
    const flagKey = TMPFS_FLAG_KEYS[option];
    if (flagKey !== undefined) {
      if (!seenFlags.has(flagKey)) {
        out.unshift(option);
        seenFlags.add(flagKey);
      }
      continue;
    }
    const eq = option.indexOf('=');
    if (eq < 0 || !TMPFS_DATA_KEYS.includes(option.slice(0, eq))) throw new UsageError(`invalid tmpfs option ${JSON.stringify(option)}`);
    const key = option.slice(0, eq);
    if (!seenData.has(key)) {
      out.unshift(option);
      seenData.add(key);
    }
  }
  return out;
}

/**
 * All of a `run`'s mount flags in docker's order of precedence (`--mount`, `-v`, `--tmpfs`: a later flag kind
 * does not override an earlier one), refusing two mounts on one target ("duplicate mount point").
 */
export function parseMountFlags(flags: { volumes?: readonly string[]; mounts?: readonly string[]; tmpfs?: readonly string[]; cwd?: string }): MountRequest[] {
  const reqs: MountRequest[] = [
    ...(flags.mounts ?? []).map((m) => parseMountFlag(m, { cwd: flags.cwd })),
    ...(flags.volumes ?? []).map((v) => parseVolumeFlag(v, { cwd: flags.cwd })),
    ...(flags.tmpfs ?? []).map((t) => parseTmpfsFlag(t)),
  ];
  const seen = new Set<string>();
  for (const r of reqs) {
    if (seen.has(r.target)) throw new UsageError(`duplicate mount point: ${r.target}`);
    seen.add(r.target);
  }
  return reqs;
}

/**
 * The image's `VOLUME`s that no requested mount covers, as anonymous volume requests (docker creates one per
 * image volume), sorted by path.
 */
export function imageVolumeRequests(imageVolumes: Record<string, object> | null | undefined, requests: readonly MountRequest[]): MountRequest[] {
  const taken = new Set(requests.map((r) => r.target));
  return Object.keys(imageVolumes ?? {})
    .filter((p) => p.startsWith('/'))
    .map(cleanTarget)
    .filter((p, i, all) => p !== '/' && !taken.has(p) && all.indexOf(p) === i)
    .sort()
    .map((target) => ({ type: 'volume', target, readonly: false, options: [] }));
}
