// Child-process plumbing for the test harness: managed long-running children (registries, the token
// server) that never outlive the test process, promise-based command runs with useful errors, free ports.
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync, openSync, closeSync, rmSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const live = new Set<ChildProcess>();
const tempDirs = new Set<string>();
let hooksInstalled = false;

const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

function killAll(signal: NodeJS.Signals): void {
  for (const cp of live) {
    try {
      if (cp.exitCode === null && cp.signalCode === null) cp.kill(signal);
    } catch {
      /* already gone */
    }
  }
}

function removeTempDirs(): void {
  if (process.env.TSDOCK_HARNESS_KEEP) return;
  for (const d of tempDirs) {
    try {
      rmSync(d, { recursive: true, force: true });
    } catch {
      /* best effort */
    }
  }
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', () => {
    killAll('SIGKILL');
    removeTempDirs();
  });
  for (const sig of SIGNALS) {
    const handler = (): void => {
      killAll('SIGKILL');
      removeTempDirs();
      for (const s of SIGNALS) process.removeListener(s, handlers.get(s)!);
      // Re-raise so the default action (or someone else's handler) still applies.
      process.kill(process.pid, sig);
    };
    handlers.set(sig, handler);
    process.on(sig, handler);
  }
}
const handlers = new Map<NodeJS.Signals, () => void>();

/**
 * Register a directory to be removed when the process exits (unless TSDOCK_HARNESS_KEEP is set). It also gets
 * an `.owner-pid` file so that a later sweepStaleTempDirs() can remove it if this process dies by SIGKILL.
 */
export function registerTempDir(dir: string): void {
  installHooks();
  tempDirs.add(dir);
  try {
    writeFileSync(path.join(dir, '.owner-pid'), String(process.pid));
  } catch {
    /* best effort */
  }
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Remove `<tmpdir>/<prefix>*` dirs left behind by harness processes that no longer exist. */
export function sweepStaleTempDirs(prefix: string, root = os.tmpdir()): void {
  if (process.env.TSDOCK_HARNESS_KEEP) return;
  let names: string[];
  try {
    names = readdirSync(root).filter((n) => n.startsWith(prefix));
  } catch {
    return;
  }
  for (const n of names) {
    const dir = path.join(root, n);
    try {
      const pid = Number(readFileSync(path.join(dir, '.owner-pid'), 'utf8'));
      if (pid > 0 && pid !== process.pid && !pidAlive(pid)) rmSync(dir, { recursive: true, force: true });
    } catch {
      /* no owner file (yet) or not ours: leave it */
    }
  }
}
export function unregisterTempDir(dir: string): void {
  tempDirs.delete(dir);
}

let setprivOk: boolean | undefined;
function hasSetpriv(): boolean {
  if (setprivOk === undefined) {
    setprivOk = ['/usr/bin/setpriv', '/bin/setpriv'].some((p) => existsSync(p));
  }
  return setprivOk;
}

export interface ManagedProcess {
  child: ChildProcess;
  pid: number;
  logPath: string;
  /** Resolves when the child has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the child is gone. Idempotent. */
  stop(graceMs?: number): Promise<void>;
  readLog(): string;
}

/**
 * Start a long-running child whose stdout+stderr go to `logPath`. The child is killed when the test process
 * exits, is interrupted, or (via PR_SET_PDEATHSIG, using util-linux `setpriv` when available) dies abruptly.
 */
export function spawnManaged(
  cmd: string,
  args: string[],
  opts: { logPath: string; cwd?: string; env?: NodeJS.ProcessEnv; stdoutPipe?: boolean },
): ManagedProcess {
  installHooks();
  const fd = openSync(opts.logPath, 'a');
  const [file, argv] = hasSetpriv() ? ['setpriv', ['--pdeathsig', 'SIGKILL', '--', cmd, ...args]] : [cmd, args];
  let child: ChildProcess;
  try {
    child = spawn(file, argv, {
      cwd: opts.cwd,
      env: opts.env ?? process.env,
      stdio: ['ignore', opts.stdoutPipe ? 'pipe' : fd, fd],
      detached: false,
    });
  } finally {
    closeSync(fd);
  }
  live.add(child);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      live.delete(child);
      resolve({ code, signal });
    });
    child.once('error', () => {
      live.delete(child);
      resolve({ code: -1, signal: null });
    });
  });
  // Don't keep the event loop alive just for these children; stop() or process exit handles them.
  child.unref();
  const stop = async (graceMs = 3000): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null || !live.has(child)) {
      await exited;
      return;
    }
    try {
      child.kill('SIGTERM');
    } catch {
      /* gone */
    }
    const timer = setTimeout(() => {
      try {
        child.kill('SIGKILL');
      } catch {
        /* gone */
      }
    }, graceMs);
    await exited;
    clearTimeout(timer);
  };
  return {
    child,
    pid: child.pid ?? -1,
    logPath: opts.logPath,
    exited,
    stop,
    readLog: () => {
      try {
        return readFileSync(opts.logPath, 'utf8');
      } catch {
        return '';
      }
    },
  };
}

/** Pids of managed children that are still running (for leak checks). */
export function liveChildPids(): number[] {
  return [...live].map((c) => c.pid ?? -1).filter((p) => p > 0);
}

export class CommandError extends Error {
  constructor(
    message: string,
    readonly cmd: string,
    readonly args: string[],
    readonly code: number | string | null,
    readonly stdout: string,
    readonly stderr: string,
  ) {
    super(message);
    this.name = 'CommandError';
  }
}

export interface RunResult {
  stdout: string;
  stderr: string;
}

/** Run a command to completion (never a shell). Rejects with CommandError carrying stdout/stderr. */
export function run(
  cmd: string,
  args: string[],
  opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number; input?: string } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      cmd,
      args,
      {
        cwd: opts.cwd,
        env: opts.env ?? process.env,
        timeout: opts.timeoutMs ?? 120_000,
        maxBuffer: 64 * 1024 * 1024,
        encoding: 'utf8',
      },
      (err, stdout, stderr) => {
        if (err) {
          const e = err as NodeJS.ErrnoException & { code?: number | string; killed?: boolean };
          reject(
            new CommandError(
              `${cmd} ${args.join(' ')} failed (${e.killed ? 'timed out' : `exit ${e.code}`}): ${String(stderr).trim() || e.message}`,
              cmd,
              args,
              e.code ?? null,
              String(stdout),
              String(stderr),
            ),
          );
        } else {
          resolve({ stdout: String(stdout), stderr: String(stderr) });
        }
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** A port that was free a moment ago on 127.0.0.1 (bind :0, read, close). Callers retry on collision. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error('could not allocate a port'))));
    });
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
