import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { NotFoundError, TsdockError, withCleanup } from '../errors.js';
import { readJsonSync, writeJsonAtomic } from '../state/atomic.js';
import { LOCK_EX, LOCK_NB, LOCK_UN, flock } from '../sys/index.js';
import { treeSize } from '../storage/tree-size.js';
import { parseNameFile } from './names.js';
import type { ContainerRecord, ContainerState, ExitFile } from './record.js';

/**
 * The files of one container directory (docs/lifecycle-design.md) and the per-container lock.
 *
 * Orphans: a directory under containers/ without a readable container.json is a half-created container (a
 * crash between createContainerDirs and the record's write, or a `run` from before records existed).
 * listContainerIds() lists it; its state is `dead` (status/lookup/ps show it, `rm` removes it without -f,
 * `container prune` removes it once it is older than ORPHAN_GRACE_MS and nobody holds its lock, so a `run`
 * still preparing the container is never pruned under its feet).
 */
export const CONTAINER_FILES = {
  record: 'container.json',
  spec: 'config.json',
  state: 'state.json',
  exit: 'exit.json',
  log: 'ctr.log',
  rotatedLog: 'ctr.log.1',
  lock: 'lock',
  seccompProfile: 'seccomp.json',
} as const;

/** An orphan younger than this may be a container whose `run` is still preparing it: prune leaves it. */
export const ORPHAN_GRACE_MS = 10 * 60_000;

const ID = /^[0-9a-f]{64}$/;

export function containersDir(root: string): string {
  return path.join(root, 'containers');
}

export function containerDir(root: string, id: string): string {
  return path.join(root, 'containers', id);
}

export function containerFile(root: string, id: string, file: keyof typeof CONTAINER_FILES): string {
  return path.join(root, 'containers', id, CONTAINER_FILES[file]);
}

/**
 * Every container directory's id, orphans included (callers tell them apart by loadRecord() being
 * undefined). Temp files and anything not named like an id are skipped.
 */
export function listContainerIds(root: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(containersDir(root));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return names.filter((n) => ID.test(n));
}

export function containerExists(root: string, id: string): boolean {
  return ID.test(id) && fs.existsSync(containerDir(root, id));
}

/** container.json, or undefined when the container is an orphan (missing or unreadable record). */
export function loadRecord(root: string, id: string): ContainerRecord | undefined {
  try {
    return readJsonSync<ContainerRecord>(containerFile(root, id, 'record'));
  } catch (err) {
    if (err instanceof TsdockError || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw err;
  }
}

/** state.json; undefined before anything happened to the container (it is then `created`). */
export function loadState(root: string, id: string): ContainerState | undefined {
  return readJsonSync<ContainerState>(containerFile(root, id, 'state'));
}

/** exit.json, written by the monitor when the init ended. */
export function loadExit(root: string, id: string): ExitFile | undefined {
  try {
    return readJsonSync<ExitFile>(containerFile(root, id, 'exit'));
  } catch (err) {
    // the monitor writes it temp+rename, so a malformed file is damage: the exit is known, its code is not
    if (err instanceof TsdockError) return { ExitCode: 255, Signal: 0, FinishedAt: new Date(0).toISOString() };
    throw err;
  }
}

export interface SaveOptions {
  /** fsync before the rename (default true; lazy state refreshes pass false: they can be derived again) */
  fsync?: boolean;
}

/** Write state.json atomically. Callers hold the container lock (withContainerLock). */
export async function saveState(root: string, id: string, state: ContainerState, opts: SaveOptions = {}): Promise<void> {
  await writeJsonAtomic(containerFile(root, id, 'state'), state, { fsync: opts.fsync ?? true });
}

/** Write container.json atomically (create, rename). Callers hold the container lock once the container exists. */
export async function saveRecord(root: string, record: ContainerRecord, opts: SaveOptions = {}): Promise<void> {
  await writeJsonAtomic(containerFile(root, record.Id, 'record'), record, { fsync: opts.fsync ?? true });
}

/** The name a container goes by, without docker's leading "/"; orphans: their config.json annotation. */
export function containerName(root: string, id: string, record: ContainerRecord | undefined): string {
  if (record) return record.Name.replace(/^\//, '');
  try {
    const spec = readJsonSync<{ annotations?: Record<string, string> }>(containerFile(root, id, 'spec'));
    const name = spec?.annotations?.['io.tsdock.name'];
    if (name) return name;
  } catch {
    // unreadable spec: look in the names index below
  }
  try {
    for (const n of fs.readdirSync(path.join(root, 'names'))) {
      // dot files are reservations in the making (container/store.ts); names cannot start with a dot
      if (!n.startsWith('.') && parseNameFile(fs.readFileSync(path.join(root, 'names', n), 'utf8')).id === id) return n;
    }
  } catch {
    // no names index
  }
  return '';
}

/** A held container lock. */
export interface ContainerLock {
  release(): void;
}

export interface ContainerLockOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

/**
 * Run `fn` holding the container's own lock (flock on `<dir>/lock`, never a global one). Every state change
 * of a container (start, stop, rm, rename, lazy state refreshes) happens under it. Throws NotFoundError when the
 * container does not exist, or was removed while we waited (the lock file is then unlinked: checked by inode).
 * flocks belong to the open file: a second withContainerLock on the same container in the same process waits.
 */
export async function withContainerLock<T>(root: string, id: string, fn: () => Promise<T>, opts: ContainerLockOptions = {}): Promise<T> {
  const lock = await acquireContainerLock(root, id, opts);
  return withCleanup(fn, () => lock.release());
}

export async function acquireContainerLock(root: string, id: string, opts: ContainerLockOptions = {}): Promise<ContainerLock> {
  const file = openLock(root, id);
  const deadline = opts.timeoutMs === undefined ? Infinity : Date.now() + opts.timeoutMs;
  let delay = 2;
  try {
    for (;;) {
      opts.signal?.throwIfAborted();
      if (flock(file.fd, LOCK_EX | LOCK_NB)) return held(id, file);
      const left = deadline - Date.now();
      if (left <= 0) throw new TsdockError(`timed out after ${opts.timeoutMs}ms waiting for the lock of container ${id}`);
      await sleep(Math.min(delay, left), undefined, opts.signal ? { signal: opts.signal } : undefined);
      delay = Math.min(delay * 2, 50);
    }
  } catch (err) {
    fs.closeSync(file.fd);
    throw err;
  }
}

/** The lock if it is free right now, else undefined (also undefined when the container is gone). */
export function tryContainerLock(root: string, id: string): ContainerLock | undefined {
  let file: { fd: number; path: string };
  try {
    file = openLock(root, id);
  } catch (err) {
    if (err instanceof NotFoundError) return undefined;
    throw err;
  }
  try {
    if (flock(file.fd, LOCK_EX | LOCK_NB)) return held(id, file);
  } catch (err) {
    fs.closeSync(file.fd);
    if (err instanceof NotFoundError) return undefined;
    throw err;
  }
  fs.closeSync(file.fd);
  return undefined;
}

/** Open (creating) the lock file without creating the directory: a removed container must stay removed. */
function openLock(root: string, id: string): { fd: number; path: string } {
  if (!ID.test(id)) throw new NotFoundError(`No such container: ${id}`);
  const file = containerFile(root, id, 'lock');
  try {
    // a raw fd, not a FileHandle (whose GC would close it and drop the lock); libuv adds O_CLOEXEC
    return { fd: fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_CREAT, 0o644), path: file };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NotFoundError(`No such container: ${id}`);
    throw err;
  }
}

/**
 * We hold the flock: make sure it is still the lock of an existing container (rm unlinks it with the directory
 * while a waiter holds the old file open). Throws NotFoundError otherwise; the caller closes the fd.
 */
function held(id: string, file: { fd: number; path: string }): ContainerLock {
  const ours = fs.fstatSync(file.fd);
  const now = fs.statSync(file.path, { throwIfNoEntry: false });
  if (!now || now.ino !== ours.ino || now.dev !== ours.dev) throw new NotFoundError(`No such container: ${id}`);
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      try {
        flock(file.fd, LOCK_UN);
      } finally {
        fs.closeSync(file.fd);
      }
    },
  };
}

/** docker's SizeRw: what the container wrote (its overlay upper directory; with vfs, its whole copy). */
export function rwSize(root: string, id: string): number {
  return treeSize(path.join(containerDir(root, id), 'upper'));
}

/** Why an orphan is `dead` (inspect's State.Error). */
export const ORPHAN_ERROR = 'container.json missing: a half-created container';

/**
 * The record of a container, or for an orphan one synthesized from what its directory holds (config.json's
 * args and annotations, the directory's creation time), flagged `orphan`. Undefined when the directory is gone.
 */
export function loadRecordOrOrphan(root: string, id: string): { record: ContainerRecord; orphan: boolean } | undefined {
  const record = loadRecord(root, id);
  if (record) return { record, orphan: false };
  const st = fs.statSync(containerDir(root, id), { throwIfNoEntry: false });
  if (!st) return undefined;
  let spec: { process?: { args?: string[]; env?: string[]; cwd?: string; terminal?: boolean }; hostname?: string; annotations?: Record<string, string> } | undefined;
  try {
    spec = readJsonSync(containerFile(root, id, 'spec'));
  } catch {
    spec = undefined;
  }
  const args = spec?.process?.args ?? [];
  const born = st.birthtimeMs > 0 ? st.birthtimeMs : st.ctimeMs;
  return {
    orphan: true,
    record: {
      Id: id,
      Name: containerName(root, id, undefined),
      Created: new Date(born).toISOString(),
      Image: '',
      ImageName: spec?.annotations?.['io.tsdock.image'] ?? '',
      Path: args[0] ?? '',
      Args: args.slice(1),
      // unknown for a half-created container; only inspect shows it
      Driver: 'overlay',
      Config: {
        Hostname: spec?.hostname ?? '',
        User: '',
        Env: spec?.process?.env ?? [],
        Cmd: null,
        Entrypoint: null,
        WorkingDir: spec?.process?.cwd ?? '',
        Labels: {},
        Tty: spec?.process?.terminal ?? false,
        OpenStdin: false,
      },
      HostConfig: {
        AutoRemove: false,
        NetworkMode: '',
        RestartPolicy: { Name: 'no', MaximumRetryCount: 0 },
        Binds: [],
        ReadonlyRootfs: false,
        Privileged: false,
        CapAdd: [],
        CapDrop: [],
        SecurityOpt: [],
        Init: false,
        LogConfig: { Type: 'k8s-file', Config: {} },
      },
      Mounts: [],
      AnonymousVolumes: [],
      Request: {},
    },
  };
}
