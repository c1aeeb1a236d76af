/**
 * A request's mounts with dockerd's rules and error wording (moby volume/mounts/linux_parser.go,
 * validateMountConfig): HostConfig.Binds (`SRC:DST[:OPTS]`, parsed here as dockerd parses them), the typed
 * HostConfig.Mounts, the anonymous Volumes and the Tmpfs map. The result is a list of MountRequests that the caller
 * resolves (named and anonymous volumes → host directories, bind sources checked or created) into ResolvedMounts
 * for buildSpec. Pure: nothing here looks at the host. (`--mount`'s CSV is the CLI's: src/cli/opts/mount.ts.)
 */
import path from 'node:path';
import { UsageError } from '../errors.js';

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

/**
 * `-v SRC:DST[:OPTS]`, `-v DST` (anonymous volume). SRC absolute (or starting with "." when `cwd` is given) is
 * a bind mount, anything else a named volume. OPTS: at most one each of ro/rw, z/Z, a propagation mode, nocopy,
 * and a consistency mode (accepted, ignored).
 */
export function parseVolumeFlag(raw: string): MountRequest {
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


/** moby ConvertTmpfsOptions: bytes → the largest exact binary suffix */
function sizeOption(bytes: number): string {
  for (const [suffix, div] of [['g', 1024 ** 3], ['m', 1024 ** 2], ['k', 1024]] as const) {
    if (bytes % div === 0) return `size=${bytes / div}${suffix}`;
  }
  return `size=${bytes}`;
}

/** docker's mount.Mount (HostConfig.Mounts, what `--mount` becomes in the CLI); container/request.ts re-exports it */
export interface EngineMount {
  Type: 'bind' | 'volume' | 'tmpfs';
  /** bind: an absolute host path; volume: the volume's name, empty for an anonymous one */
  Source?: string;
  Target: string;
  ReadOnly?: boolean;
  Consistency?: string;
  BindOptions?: { Propagation?: string; NonRecursive?: boolean };
  VolumeOptions?: { NoCopy?: boolean; DriverConfig?: { Name: string } };
  TmpfsOptions?: { SizeBytes?: number; Mode?: number };
}

/** A HostConfig.Mounts entry checked as dockerd checks it (validateMountConfig), as a MountRequest. */
export function fromEngineMount(m: EngineMount): MountRequest {
  const type = m.Type;
  if (type !== 'bind' && type !== 'volume' && type !== 'tmpfs') throw new MountConfigError(String(type), 'mount type unknown');
  const propagation = m.BindOptions?.Propagation?.toLowerCase();
  if (propagation && !PROPAGATION_MODES.includes(propagation)) throw new MountConfigError(type, `invalid propagation mode: ${propagation}`);
  const driver = m.VolumeOptions?.DriverConfig?.Name;
  if (driver !== undefined && driver !== '' && driver !== 'local') throw new UsageError(`volume driver "${driver}" is not supported: only "local" is`);
  const options: string[] = [];
  if (type === 'bind') {
    if (m.BindOptions?.NonRecursive) options.push('bind');
    if (propagation) options.push(propagation);
  } else if (type === 'volume') {
    if (m.VolumeOptions?.NoCopy) options.push('nocopy');
  } else {
    const t = m.TmpfsOptions ?? {};
    if (t.Mode !== undefined) options.push(`mode=${t.Mode.toString(8)}`);
    if (t.SizeBytes !== undefined && t.SizeBytes !== 0) options.push(sizeOption(t.SizeBytes));
  }
  const source = m.Source ?? '';
  const req: MountRequest = { type, target: m.Target, readonly: Boolean(m.ReadOnly), options };
  if (source !== '') req.source = type === 'bind' && source.startsWith('/') ? cleanTarget(source) : source;
  validateRequest(req, {
    bindOptions: type !== 'bind' && m.BindOptions !== undefined,
    volumeOptions: type !== 'volume' && m.VolumeOptions !== undefined,
  });
  req.target = cleanTarget(m.Target);
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
 * A request's mounts in docker's order of precedence (Mounts, Binds, the anonymous Volumes, Tmpfs: a later kind
 * does not override an earlier one), refusing two mounts on one target ("duplicate mount point").
 */
export function requestMounts(r: { mounts?: readonly EngineMount[]; binds?: readonly string[]; volumes?: Readonly<Record<string, unknown>> | null; tmpfs?: Readonly<Record<string, string>> }): MountRequest[] {
  const reqs: MountRequest[] = [
    ...(r.mounts ?? []).map(fromEngineMount),
    ...(r.binds ?? []).map((v) => parseVolumeFlag(v)),
    ...Object.keys(r.volumes ?? {}).map((v) => parseVolumeFlag(v)),
    ...Object.entries(r.tmpfs ?? {}).map(([target, opts]) => parseTmpfsFlag(opts ? `${target}:${opts}` : target)),
  ];
  const seen = new Set<string>();
  for (const m of reqs) {
    if (seen.has(m.target)) throw new UsageError(`duplicate mount point: ${m.target}`);
    seen.add(m.target);
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
