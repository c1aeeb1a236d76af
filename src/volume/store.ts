import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { NotFoundError, TsdockError, UsageError } from '../errors.js';
import { fsyncDir, readJson, writeJsonAtomic } from '../state/atomic.js';
import { withLock, type LockMode } from '../state/lock.js';
import { makeTmpDir, removeTree } from '../storage/tmp.js';
import { treeSize } from '../storage/tree-size.js';
import { appendEvent } from '../events/log.js';
import { RENAME_NOREPLACE, SysError, renameat2 } from '../sys/index.js';

/** docker (>= 23) marks volumes that containers create for themselves with this label; `volume prune` removes only those unless -a. */
export const ANONYMOUS_LABEL = 'com.docker.volume.anonymous';

/** docker's names.RestrictedNameChars, as its error message quotes it. */
export const VOLUME_NAME_CHARS = '[a-zA-Z0-9][a-zA-Z0-9_.-]';
const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;

/** The only driver there is. */
export const LOCAL_DRIVER = 'local';

/** The local driver's options (mount(8) style, applied when a container mounts the volume). */
const VALID_OPTIONS = ['type', 'device', 'o', 'size'];
const REQUIRED_WITH: Record<string, string[]> = { device: ['type'], type: ['device'], o: ['device', 'type'] };

/** `volume.json`, the record of one volume. */
export interface VolumeRecord {
  Name: string;
  Driver: 'local';
  Labels: Record<string, string>;
  /** driver options (`-o`): stored, applied by whoever mounts the volume */
  Options: Record<string, string>;
  /** RFC 3339, seconds precision, UTC */
  CreatedAt: string;
  /** created by a container for an unnamed mount (`-v /path`, image VOLUME): `volume prune` removes these by default */
  Anonymous: boolean;
}

export interface Volume extends VolumeRecord {
  /** the directory containers mount: <root>/volumes/<name>/_data */
  Mountpoint: string;
}

export interface CreateVolumeOptions {
  labels?: Record<string, string>;
  options?: Record<string, string>;
  /** mark as anonymous (also adds docker's com.docker.volume.anonymous label) */
  anonymous?: boolean;
  /** only 'local' exists; anything else is docker's "plugin not found" error */
  driver?: string;
}

/** Ids of the containers that use a volume (empty when unused). Supplied by the container store. */
export type InUseCheck = (name: string) => string[] | Promise<string[]>;

export interface RemoveVolumeOptions {
  /** remove even when in use; a missing volume is not an error */
  force?: boolean;
  /** the "in use" seam: without it a volume is never in use */
  inUse?: InUseCheck;
}

/** docker's wording: `remove x: volume is in use - [id1, id2]`. */
export class VolumeInUseError extends TsdockError {
  constructor(
    readonly volume: string,
    readonly containers: string[],
  ) {
    super(`remove ${volume}: volume is in use - [${containers.join(', ')}]`);
  }
}

/** Throws UsageError with docker's explanation when `name` cannot be a local volume's name. */
export function validateVolumeName(name: string): void {
  let why: string | undefined;
  if (name.length === 1) why = 'volume name is too short, names should be at least two alphanumeric characters';
  else if (!NAME_RE.test(name))
    why = `${JSON.stringify(name)} includes invalid characters for a local volume name, only ${JSON.stringify(VOLUME_NAME_CHARS)} are allowed. If you intended to pass a host directory, use absolute path`;
  if (why) throw new UsageError(`invalid volume name ${JSON.stringify(name)}: ${why}`);
}

/** The local driver's checks on `-o` options (docker's validateOpts); size needs quota support, which tsdock lacks. */
export function validateVolumeOptions(options: Record<string, string>): void {
  for (const key of Object.keys(options)) {
    if (!VALID_OPTIONS.includes(key)) throw new UsageError(`invalid option: ${JSON.stringify(key)}`);
  }
  for (const [key, required] of Object.entries(REQUIRED_WITH)) {
    if (!(key in options)) continue;
    for (const r of required) if (!(r in options)) throw new UsageError(`missing required option: ${JSON.stringify(r)}`);
  }
  if ('size' in options) throw new UsageError('quota size requested but no quota support');
}

/** A random 64-hex name, as docker gives unnamed volumes. */
export function randomVolumeName(): string {
  return crypto.randomBytes(32).toString('hex');
}

/**
 * Named volumes: <root>/volumes/<name>/{_data/, volume.json}. A volume appears only by the rename of a
 * complete directory prepared in <root>/tmp (never half-created), and disappears by a rename into
 * <root>/tmp before its deletion. Removal and prune hold <root>/locks/volumes.lock exclusively; whoever
 * starts using a volume (container creation) should hold it shared from ensureVolume until the
 * container is recorded, so a prune cannot remove a volume between the two.
 */
export class VolumeStore {
  readonly dir: string;

  constructor(readonly root: string) {
    this.dir = path.join(root, 'volumes');
  }

  lockPath(): string {
    return path.join(this.root, 'locks', 'volumes.lock');
  }

  /** Run `fn` under volumes.lock ('shared' while taking volumes into use, 'exclusive' to remove). */
  withLock<T>(mode: LockMode, fn: () => Promise<T>): Promise<T> {
    return withLock(this.lockPath(), mode, fn);
  }

  dirOf(name: string): string {
    return path.join(this.dir, name);
  }

  dataDir(name: string): string {
    return path.join(this.dirOf(name), '_data');
  }

  /**
   * Create a volume (a random 64-hex name when `name` is undefined). Creating a name that exists returns
   * the existing volume unchanged, as docker does; concurrent creates of one name all succeed with one volume.
   */
  async createVolume(name?: string, opts: CreateVolumeOptions = {}): Promise<Volume> {
    return (await this.create(name, opts)).volume;
  }

  /** A volume by name: created on first use, as `run -v name:/path` does. `created` says whether this call made it. */
  async ensureVolume(name: string, opts: CreateVolumeOptions = {}): Promise<{ volume: Volume; created: boolean }> {
    validateVolumeName(name);
    const existing = await this.findVolume(name);
    if (existing) return { volume: existing, created: false };
    return this.create(name, opts);
  }

  /** NotFoundError `no such volume: NAME` when missing. */
  async getVolume(name: string): Promise<Volume> {
    const v = await this.findVolume(name);
    if (!v) throw new NotFoundError(`no such volume: ${name}`);
    return v;
  }

  async findVolume(name: string): Promise<Volume | undefined> {
    if (!NAME_RE.test(name)) return undefined; // also keeps "../x" from leaving the store
    const record = await readJson<VolumeRecord>(path.join(this.dirOf(name), 'volume.json'));
    return record ? this.view(record) : undefined;
  }

  /** Every volume, sorted by name. */
  async listVolumes(): Promise<Volume[]> {
    let names: string[];
    try {
      names = await fs.promises.readdir(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const out: Volume[] = [];
    for (const name of names.sort()) {
      const v = await this.findVolume(name);
      if (v) out.push(v);
    }
    return out;
  }

  /**
   * Remove a volume and its data. A missing volume is NotFoundError unless `force` (then false is
   * returned); a volume in use (per `inUse`) is always VolumeInUseError, as in docker, where -f only hides
   * missing volumes.
   */
  async removeVolume(name: string, opts: RemoveVolumeOptions = {}): Promise<boolean> {
    return this.withLock('exclusive', () => this.removeLocked(name, opts));
  }

  /** removeVolume for a caller already holding volumes.lock exclusively (prune). */
  async removeLocked(name: string, opts: RemoveVolumeOptions = {}): Promise<boolean> {
    const v = await this.findVolume(name);
    if (!v) {
      if (opts.force) return false;
      throw new NotFoundError(`no such volume: ${name}`);
    }
    const users = opts.inUse ? await opts.inUse(name) : [];
    if (users.length > 0) throw new VolumeInUseError(name, users);
    const trash = await makeTmpDir(this.root, 'rmvolume');
    try {
      await fs.promises.rename(this.dirOf(name), path.join(trash, 'volume'));
    } catch (err) {
      await removeTree(trash);
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && opts.force) return false;
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(`no such volume: ${name}`);
      throw err;
    }
    await removeTree(trash);
    volumeEvent(this.root, 'destroy', name);
    return true;
  }

  /** Bytes used by the volume's data (storage/tree-size.ts: docker's directory.Size). */
  volumeSize(name: string): number {
    return treeSize(this.dataDir(name));
  }

  private async create(name: string | undefined, opts: CreateVolumeOptions): Promise<{ volume: Volume; created: boolean }> {
    const driver = opts.driver ?? LOCAL_DRIVER;
    if (driver !== LOCAL_DRIVER) throw new NotFoundError(`error looking up volume plugin ${driver}: plugin ${JSON.stringify(driver)} not found`);
    const options = { ...(opts.options ?? {}) };
    validateVolumeOptions(options);
    const volumeName = name ?? randomVolumeName();
    validateVolumeName(volumeName);
    const record: VolumeRecord = {
      Name: volumeName,
      Driver: LOCAL_DRIVER,
      Labels: { ...(opts.labels ?? {}), ...(opts.anonymous ? { [ANONYMOUS_LABEL]: '' } : {}) },
      Options: options,
      CreatedAt: rfc3339(new Date()),
      Anonymous: Boolean(opts.anonymous),
    };
    // a lost race with a concurrent remove can make "exists" and "gone" alternate: a few rounds settle it
    for (let attempt = 0; ; attempt++) {
      const existing = await this.findVolume(volumeName);
      if (existing) return { volume: existing, created: false };
      const work = await makeTmpDir(this.root, 'volume');
      try {
        await fs.promises.mkdir(path.join(work, '_data'), { mode: 0o755 });
        await fs.promises.chmod(path.join(work, '_data'), 0o755);
        await writeJsonAtomic(path.join(work, 'volume.json'), record);
        await fs.promises.chmod(work, 0o755);
        await fs.promises.mkdir(this.dir, { recursive: true, mode: 0o700 });
        if (renameNoReplace(work, this.dirOf(volumeName))) {
          // volume.json was fsynced in work/; the rename that makes the volume exist is made durable too
          await fsyncDir(this.dir);
          volumeEvent(this.root, 'create', volumeName);
          return { volume: this.view(record), created: true };
        }
      } catch (err) {
        await removeTree(work);
        throw err;
      }
      await removeTree(work);
      const winner = await this.findVolume(volumeName);
      if (winner) return { volume: winner, created: false };
      if (attempt >= 3) throw new TsdockError(`cannot create volume ${volumeName}: ${this.dirOf(volumeName)} exists but holds no volume.json`);
    }
  }

  private view(record: VolumeRecord): Volume {
    return { ...record, Labels: record.Labels ?? {}, Options: record.Options ?? {}, Anonymous: Boolean(record.Anonymous), Mountpoint: this.dataDir(record.Name) };
  }
}

/** docker's volume event: the actor is the volume's name, its driver in the attributes. */
function volumeEvent(root: string, action: string, name: string): void {
  appendEvent(root, { type: 'volume', action, id: name, attributes: { driver: LOCAL_DRIVER } });
}

/** True when renamed; false when `to` already exists. Falls back to rename(2) where RENAME_NOREPLACE is unsupported. */
function renameNoReplace(from: string, to: string): boolean {
  try {
    renameat2(from, to, RENAME_NOREPLACE);
    return true;
  } catch (err) {
    if (err instanceof SysError && err.code === 'EEXIST') return false;
    if (!(err instanceof SysError && err.code === 'EINVAL')) throw err;
  }
  try {
    // rename(2) replaces an empty directory but fails on a non-empty one; a volume directory is never empty
    fs.renameSync(from, to);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' || code === 'ENOTEMPTY') return false;
    throw err;
  }
}

/** RFC 3339 in UTC without fractional seconds, the shape docker prints for volumes. */
export function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d+Z$/, 'Z');
}

