import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { TsdockError, withCleanup } from '../errors.js';
import { LOCK_EX, LOCK_NB, LOCK_SH, LOCK_UN, flock } from '../sys/index.js';

export type LockMode = 'shared' | 'exclusive';

export interface LockOptions {
  /** give up (with the signal's reason) when aborted while waiting */
  signal?: AbortSignal;
  /** give up with a TsdockError after this long; default: wait forever */
  timeoutMs?: number;
}

/** A held flock. Locks belong to the open file description, so two handles in one process exclude each other too. */
export interface LockHandle {
  readonly path: string;
  readonly mode: LockMode;
  release(): void;
}

const FIRST_DELAY_MS = 2;
const MAX_DELAY_MS = 50;

/**
 * Run `fn` while holding a flock on `lockPath` (created, with its directory, if missing). Waiting polls with
 * LOCK_NB and a short growing backoff instead of a blocking flock, so the event loop keeps running.
 * The lock is released however `fn` ends.
 */
export async function withLock<T>(lockPath: string, mode: LockMode, fn: () => Promise<T>, opts: LockOptions = {}): Promise<T> {
  const lock = await acquireLock(lockPath, mode, opts);
  return withCleanup(fn, () => lock.release());
}

/** Run `fn` under the lock if it is free right now; `{ locked: false }` without waiting when it is not. */
export async function tryWithLock<T>(lockPath: string, mode: LockMode, fn: () => Promise<T>): Promise<{ locked: true; value: T } | { locked: false }> {
  const lock = await tryLock(lockPath, mode);
  if (!lock) return { locked: false };
  const value = await withCleanup(fn, () => lock.release());
  return { locked: true, value };
}

/** Take the lock if it is free right now, else undefined. */
export async function tryLock(lockPath: string, mode: LockMode): Promise<LockHandle | undefined> {
  const fd = await openLockFile(lockPath);
  try {
    if (flock(fd, opFor(mode) | LOCK_NB)) return handle(lockPath, mode, fd);
  } catch (err) {
    closeAfterError(fd, err);
  }
  fs.closeSync(fd);
  return undefined;
}

/** Wait for the lock (see withLock for the waiting strategy). */
export async function acquireLock(lockPath: string, mode: LockMode, opts: LockOptions = {}): Promise<LockHandle> {
  const fd = await openLockFile(lockPath);
  try {
    const deadline = opts.timeoutMs === undefined ? Infinity : Date.now() + opts.timeoutMs;
    let delay = FIRST_DELAY_MS;
    for (;;) {
      opts.signal?.throwIfAborted();
      if (flock(fd, opFor(mode) | LOCK_NB)) return handle(lockPath, mode, fd);
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new TsdockError(`timed out after ${opts.timeoutMs}ms waiting for the ${mode} lock on ${lockPath}`);
      }
      await sleep(Math.min(delay, left), undefined, opts.signal ? { signal: opts.signal } : undefined).catch((err: unknown) => {
        throw opts.signal?.aborted ? opts.signal.reason : err;
      });
      delay = Math.min(delay * 2, MAX_DELAY_MS);
    }
  } catch (err) {
    closeAfterError(fd, err);
  }
}

/** Close `fd` and rethrow `err`; a failing close is attached as `suppressed`, never thrown instead. */
function closeAfterError(fd: number, err: unknown): never {
  try {
    fs.closeSync(fd);
  } catch (closeErr) {
    if (err && typeof err === 'object') (err as { suppressed?: unknown }).suppressed = closeErr;
  }
  throw err;
}

function opFor(mode: LockMode): number {
  return mode === 'shared' ? LOCK_SH : LOCK_EX;
}

async function openLockFile(lockPath: string): Promise<number> {
  // synchronous: two metadata calls cost less than two thread-pool round trips (and starting the pool)
  fs.mkdirSync(path.dirname(lockPath), { recursive: true });
  // Read-only is enough for both lock kinds and works on a lock file someone else created; libuv adds
  // O_CLOEXEC, so children never inherit the lock. A raw fd, not a FileHandle: a FileHandle closes its
  // fd when garbage collected, which would drop the lock behind our back.
  return fs.openSync(lockPath, fs.constants.O_RDONLY | fs.constants.O_CREAT, 0o644);
}

function handle(lockPath: string, mode: LockMode, fd: number): LockHandle {
  let held = true;
  return {
    path: lockPath,
    mode,
    release() {
      if (!held) return;
      held = false;
      try {
        flock(fd, LOCK_UN);
      } finally {
        fs.closeSync(fd);
      }
    },
  };
}
