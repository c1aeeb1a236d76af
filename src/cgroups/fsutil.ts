import fs from 'node:fs';
import { TsdockError } from '../errors.js';

/** A cgroup file could not be written or read; carries the path and the errno code. */
export class CgroupError extends TsdockError {
  readonly path: string;
  readonly code?: string;
  constructor(message: string, path: string, cause?: unknown) {
    super(message, { cause });
    this.path = path;
    this.code = (cause as NodeJS.ErrnoException | undefined)?.code;
  }
}

export function writeCg(file: string, value: string | number): void {
  try {
    fs.writeFileSync(file, String(value));
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new CgroupError(`cgroup: write ${value} to ${file}: ${e.code === 'EINVAL' ? 'invalid argument' : e.code === 'ENOENT' ? 'no such file (controller not available)' : (e.code ?? e.message)}`, file, err);
  }
}

export function readCg(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

export function readNum(file: string): number {
  const t = readCg(file)?.trim();
  if (t === undefined || t === 'max' || t === '') return 0;
  const n = Number(t);
  return Number.isFinite(n) ? n : 0;
}

/** "key value" lines (memory.stat, cpu.stat, memory.events, memory.oom_control) → a map */
export function readKeyed(file: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of (readCg(file) ?? '').split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^-?\d+$/.test(v)) out.set(k, Number(v));
  }
  return out;
}

export function readPids(file: string): number[] {
  return (readCg(file) ?? '').split('\n').filter((l) => /^\d+$/.test(l.trim())).map(Number);
}

export function mkdirCg(dir: string): boolean {
  try {
    fs.mkdirSync(dir);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new CgroupError(`cgroup: mkdir ${dir}: ${(err as NodeJS.ErrnoException).code}`, dir, err);
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * rmdir a cgroup; EBUSY (processes still exiting) is retried for up to `ms`. Returns false when it stays busy.
 * ENOENT is success.
 */
export async function rmdirCg(dir: string, ms = 2000): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    try {
      fs.rmdirSync(dir);
      return true;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return true;
      if (code !== 'EBUSY' || Date.now() > deadline) {
        if (code === 'EBUSY') return false;
        throw new CgroupError(`cgroup: rmdir ${dir}: ${code}`, dir, err);
      }
      await sleep(10);
    }
  }
}

/** kill(pid, SIGKILL), ignoring processes already gone */
export function killPid(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone
  }
}
