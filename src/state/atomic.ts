import fs from 'node:fs';
import path from 'node:path';
import { TsdockError, suppressInto, withCleanup } from '../errors.js';

export interface WriteAtomicOptions {
  /** permission bits of the final file (applied exactly, not filtered by the umask); default 0644 */
  mode?: number;
  /** fsync the data before the rename and the directory after it, so the write survives a power loss */
  fsync?: boolean;
}

let tmpCount = 0;

/**
 * `.<base>.tmp-<pid>-<n><random>` beside the target, so the rename never crosses a filesystem. The pid and a
 * counter make it unique among live writers, the random part among leftovers of a dead one with the same pid
 * (opened with `wx` anyway); no crypto module is loaded for it.
 */
export function tempPathFor(file: string): string {
  const rand = Math.floor(Math.random() * 0x1000000).toString(16).padStart(6, '0');
  return path.join(path.dirname(file), `.${path.basename(file)}.tmp-${process.pid}-${(tmpCount++).toString(16)}${rand}`);
}

/**
 * Replace `file` atomically: readers see the old content or the new, never a mix or a truncated file.
 * The temp file is removed when anything fails; a failed cleanup never hides the original error. With `fsync`
 * the data is synced before the rename (the directory is not: see writeFileAtomic).
 */
export function writeFileAtomicSync(file: string, data: string | Uint8Array, opts: WriteAtomicOptions = {}): void {
  const tmp = tempPathFor(file);
  const mode = opts.mode ?? 0o644;
  try {
    const fd = fs.openSync(tmp, 'wx', mode);
    try {
      fs.writeFileSync(fd, data);
      fs.fchmodSync(fd, mode);
      if (opts.fsync) fs.fsyncSync(fd);
    } catch (err) {
      closeQuietly(fd, err);
      throw err;
    }
    fs.closeSync(fd);
    fs.renameSync(tmp, file);
  } catch (err) {
    try {
      fs.rmSync(tmp, { force: true });
    } catch (cleanupErr) {
      suppressInto(err)(cleanupErr);
    }
    throw err;
  }
}

function closeQuietly(fd: number, original: unknown): void {
  try {
    fs.closeSync(fd);
  } catch (cleanupErr) {
    suppressInto(original)(cleanupErr);
  }
}

/**
 * writeFileAtomicSync, and with `fsync` the directory synced after the rename, so the write survives a power
 * loss. The calls are synchronous: state files are small, and a CLI that waits for them anyway saves the
 * thread-pool round trips (and its start, on a command's first write).
 */
export async function writeFileAtomic(file: string, data: string | Uint8Array, opts: WriteAtomicOptions = {}): Promise<void> {
  writeFileAtomicSync(file, data, opts);
  if (opts.fsync) await fsyncDir(path.dirname(file));
}

/**
 * JSON state files (indexes, metadata): pretty-printed, newline-terminated, fsynced unless told otherwise,
 * 0600 unless told otherwise (a container's spec and request hold its -e values).
 */
export async function writeJsonAtomic(file: string, value: unknown, opts: WriteAtomicOptions = {}): Promise<void> {
  await writeFileAtomic(file, `${JSON.stringify(value, null, 2)}\n`, { fsync: true, mode: 0o600, ...opts });
}

/** Parse a JSON file; a missing file is `undefined`, unreadable or malformed content is a TsdockError. */
export async function readJson<T>(file: string): Promise<T | undefined> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8'); // small files: no thread-pool round trip
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  return parseJson<T>(file, text);
}

/** Synchronous twin of readJson, for code that cannot await (e.g. `has()` checks). */
export function readJsonSync<T>(file: string): T | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  return parseJson<T>(file, text);
}

function parseJson<T>(file: string, text: string): T {
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new TsdockError(`cannot parse ${file}: ${err instanceof Error ? err.message.toLowerCase() : String(err)}`, { cause: err });
  }
}

/** fsync a directory, so a rename or link made in it survives a crash. */
export async function fsyncDir(dir: string): Promise<void> {
  const fd = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  await withCleanup(
    async () => fs.fsyncSync(fd),
    () => fs.closeSync(fd),
  );
}
