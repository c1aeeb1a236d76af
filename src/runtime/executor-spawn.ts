/**
 * The two ways the executor process is started. Its stdio are usually plain descriptors (the CLI's own fds, a pty
 * slave, /dev/null): then posix_spawn (sys/spawn.ts) starts it in ~0.3 ms, with its status pipe read by
 * fs.read, and neither child_process nor net is loaded (~4 ms of a `run`, with libuv's fork of the whole Node
 * process). A stdio stream ('pipe'), another uid/gid, or a status pipe that must outlive this process unread
 * (`exec -d`: an fs.read cannot be let go of) take child_process.spawn.
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import fs from 'node:fs';
import type { Readable, Writable } from 'node:stream';
import { O_CLOEXEC, WNOHANG, pipe2, posixSpawn, waitpid } from '../sys/spawn.js';
import type { ExecutorOptions, StdioSpec } from './executor.js';

export interface ProcessEnd {
  code: number | null;
  signal: NodeJS.Signals | number | null;
  error?: Error;
}

export interface SpawnedExecutor {
  pid: number;
  stdin: Writable | null;
  stdout: Readable | null;
  stderr: Readable | null;
  /** calls `onText` with the status pipe's text (latin1) as it comes; resolves at its end */
  readStatus(onText: (text: string) => void): Promise<void>;
  /** the process ended (or could not be started: `error`) */
  done: Promise<ProcessEnd>;
  kill(signal: NodeJS.Signals | number): boolean;
  unref(): void;
}

/** Start `exe` with the plan on fd 3, the status pipe on fd 4 and `opts.extraFds` from fd 5. */
export function spawnExecutor(exe: string, planFd: number, opts: ExecutorOptions): SpawnedExecutor {
  const direct = opts.uid === undefined && opts.gid === undefined && !opts.outlives && opts.stdio.every((s) => s !== 'pipe');
  return direct ? spawnDirect(exe, planFd, opts) : spawnWithNode(exe, planFd, opts);
}

function spawnWithNode(exe: string, planFd: number, opts: ExecutorOptions): SpawnedExecutor {
  const stdio: StdioOptions = [...opts.stdio, planFd, 'pipe', ...(opts.extraFds ?? [])];
  const child: ChildProcess = spawn(exe, [], {
    stdio,
    env: opts.env ?? process.env,
    detached: Boolean(opts.detached),
    ...(opts.uid !== undefined ? { uid: opts.uid } : {}),
    ...(opts.gid !== undefined ? { gid: opts.gid } : {}),
  });
  const status = child.stdio[4] as Readable | null;
  return {
    pid: child.pid ?? -1,
    stdin: child.stdin,
    stdout: child.stdout,
    stderr: child.stderr,
    readStatus: (onText) =>
      new Promise<void>((resolve) => {
        if (!status) return resolve();
        status.setEncoding('latin1');
        status.on('data', onText);
        for (const ev of ['error', 'close', 'end']) status.on(ev, () => resolve());
      }),
    done: new Promise((resolve) => {
      child.once('error', (error) => resolve({ code: null, signal: null, error }));
      child.once('exit', (code, signal) => resolve({ code, signal }));
    }),
    kill: (signal) => child.kill(signal),
    unref: () => {
      child.unref();
      for (const s of child.stdio) (s as { unref?: () => void } | null)?.unref?.();
    },
  };
}

/** the longest wait between two looks for the ended executor (WNOHANG), once its status pipe has closed */
const REAP_MAX_DELAY_MS = 50;

function spawnDirect(exe: string, planFd: number, opts: ExecutorOptions): SpawnedExecutor {
  const opened: number[] = [];
  const fdOf = (s: StdioSpec, i: number): number => {
    if (typeof s === 'number') return s;
    if (s === 'inherit') return i;
    const fd = fs.openSync('/dev/null', fs.constants.O_RDWR | O_CLOEXEC);
    opened.push(fd);
    return fd;
  };
  const [statusRead, statusWrite] = pipe2(O_CLOEXEC);
  let pid: number;
  try {
    const env = Object.entries(opts.env ?? process.env).flatMap(([k, v]) => (v === undefined ? [] : [`${k}=${v}`]));
    pid = posixSpawn({ file: exe, argv: [exe], env, fds: [...opts.stdio.map(fdOf), planFd, statusWrite, ...(opts.extraFds ?? [])], setsid: Boolean(opts.detached) });
  } catch (err) {
    fs.closeSync(statusRead);
    const error = err instanceof Error ? err : new Error(String(err));
    return { pid: -1, stdin: null, stdout: null, stderr: null, readStatus: async () => {}, done: Promise.resolve({ code: null, signal: null, error }), kill: () => false, unref: () => {} };
  } finally {
    fs.closeSync(statusWrite);
    for (const fd of opened) fs.closeSync(fd);
  }

  let refd = true;
  let timer: NodeJS.Timeout | undefined;
  let reaped = false;
  let statusEnded!: () => void;
  const statusDone = new Promise<void>((resolve) => (statusEnded = resolve));
  const done = (async (): Promise<ProcessEnd> => {
    // the pipe closes when the executor exits, or when a monitor lets go of it after `pid`
    await statusDone;
    for (let delay = 0; ; delay = Math.min(Math.max(1, delay * 2), REAP_MAX_DELAY_MS)) {
      const st = waitpid(pid, WNOHANG);
      if (st) {
        reaped = true;
        return st;
      }
      await new Promise<void>((resolve) => {
        timer = setTimeout(resolve, delay);
        if (!refd) timer.unref();
      });
    }
  })();
  return {
    pid,
    stdin: null,
    stdout: null,
    stderr: null,
    readStatus: async (onText) => {
      const buf = Buffer.alloc(4096);
      try {
        for (;;) {
          const n = await new Promise<number>((resolve, reject) => fs.read(statusRead, buf, 0, buf.length, null, (err, got) => (err ? reject(err) : resolve(got))));
          if (n === 0) break;
          onText(buf.toString('latin1', 0, n));
        }
      } catch {
        // a read error ends the status as its end does
      } finally {
        fs.closeSync(statusRead);
        statusEnded();
      }
    },
    done,
    kill: (signal) => {
      if (reaped) return false;
      try {
        process.kill(pid, signal);
        return true;
      } catch {
        return false;
      }
    },
    unref: () => {
      refd = false;
      timer?.unref();
    },
  };
}
