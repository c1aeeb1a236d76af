import fs from 'node:fs';
import path from 'node:path';
import { eventLine } from './line.js';
import type { NewEvent } from './types.js';

/**
 * The event log of one store (docs/architecture.md, "Events"): `<root>/events/events.log`, one JSON object a
 * line, appended by whichever process made the change (a CLI, a container's monitor), rotated to `events.log.1`.
 */
export interface EventLogPaths {
  dir: string;
  current: string;
  rotated: string;
  /** a directory made with mkdir(2) while one writer rotates (no flock: that would load koffi on every write) */
  rotateLock: string;
}

/** rotated once the current file reaches this size; one old file is kept */
export const EVENT_LOG_MAX_SIZE = 1 << 20;
/** a rotation lock older than this was left by a writer that died while rotating */
const STALE_LOCK_MS = 10_000;

export function eventLogPaths(root: string): EventLogPaths {
  const dir = path.join(root, 'events');
  return { dir, current: path.join(dir, 'events.log'), rotated: path.join(dir, 'events.log.1'), rotateLock: path.join(dir, 'rotate.lock') };
}

/** The current log's path, its directory made: for a writer that only appends (a container's monitor). */
export function eventLogFile(root: string): string {
  const p = eventLogPaths(root);
  fs.mkdirSync(p.dir, { recursive: true, mode: 0o700 });
  return p.current;
}

export interface AppendOptions {
  maxSize?: number;
  /** when the write fails (the store is read-only, full...): the caller's debug log; the change itself stands */
  onError?: (err: Error) => void;
}

/**
 * Appends one event: a single write(2) on an O_APPEND fd (open, write, fstat, close; no module beyond node:fs),
 * then the rotation when the file has grown past its size. Never throws: an event that cannot be written must
 * not undo or fail the change it reports.
 */
export function appendEvent(root: string, ev: NewEvent, opts: AppendOptions = {}): void {
  appendLine(eventLogPaths(root), eventLine(ev), opts);
}

export function appendLine(p: EventLogPaths, line: string, opts: AppendOptions = {}): void {
  try {
    let fd: number;
    try {
      fd = fs.openSync(p.current, 'a', 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      fs.mkdirSync(p.dir, { recursive: true, mode: 0o700 });
      fd = fs.openSync(p.current, 'a', 0o600);
    }
    // 'a': O_WRONLY | O_APPEND | O_CREAT (libuv adds O_CLOEXEC)
    let size: number;
    try {
      fs.writeSync(fd, line);
      size = fs.fstatSync(fd).size;
    } finally {
      fs.closeSync(fd);
    }
    if (size >= (opts.maxSize ?? EVENT_LOG_MAX_SIZE)) rotate(p, opts.maxSize ?? EVENT_LOG_MAX_SIZE);
  } catch (err) {
    opts.onError?.(err as Error);
  }
}

/**
 * events.log → events.log.1 (the older .1 replaced), by the one writer that gets the lock; the others go on
 * appending (to the old file until the rename, to a new one after it: either way the line is whole). The size is
 * checked again under the lock, so two writers past the limit rotate once.
 */
function rotate(p: EventLogPaths, maxSize: number): void {
  try {
    fs.mkdirSync(p.rotateLock);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    // gone meanwhile: its writer has just rotated (taking it for a stale lock would remove the next one's)
    const made = fs.statSync(p.rotateLock, { throwIfNoEntry: false })?.mtimeMs;
    if (made === undefined || Date.now() - made < STALE_LOCK_MS) return;
    fs.rmSync(p.rotateLock, { recursive: true, force: true });
    return;
  }
  try {
    if ((fs.statSync(p.current, { throwIfNoEntry: false })?.size ?? 0) >= maxSize) fs.renameSync(p.current, p.rotated);
  } finally {
    fs.rmdirSync(p.rotateLock);
  }
}
