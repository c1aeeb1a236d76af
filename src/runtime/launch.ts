import fs from 'node:fs';
import type { Context } from '../context.js';
import { startExecutor, type StdioSpec } from './executor.js';
import type { openPty } from '../sys/pty.js';

export type Pty = ReturnType<typeof openPty>;
import { attachTty } from './tty.js';
import { K8sFileLog } from './k8s-log.js';
import type { ExecPlan, RelayPlan } from './plan-types.js';
import type { Tracer } from '../trace.js';

export interface ExitStatus {
  /** docker's exit code: the container's, or 128+n for signal n */
  exitCode: number;
  /** the signal that ended it, 0 when it exited */
  signal: number;
}

const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];
/** docker stop's default grace period */
const HANGUP_GRACE_MS = 10_000;
/** how long the executor keeps copying output after the init ended (the monitor's bound too) */
export const RELAY_DRAIN_MS = 2000;

function fdOf(stream: { fd?: unknown } | undefined): number | undefined {
  return stream && typeof stream.fd === 'number' ? stream.fd : undefined;
}

/** stdout and stderr are the same file (`>f 2>&1`, one terminal): the container gets one pipe for both */
function sameFile(a: number | undefined, b: number | undefined): boolean {
  if (a === undefined || b === undefined) return false;
  try {
    const x = fs.fstatSync(a);
    const y = fs.fstatSync(b);
    return x.dev === y.dev && x.ino === y.ino;
  } catch {
    return false;
  }
}

/** The plan with the relay: foreground stdio without a tty goes through the executor's pipes. */
export function withRelay(plan: ExecPlan, interactive: boolean, stdout: number | undefined, stderr: number | undefined, log?: RelayPlan['log']): ExecPlan {
  return { ...plan, relay: { stdin: interactive, merge: sameFile(stdout, stderr), drainMs: RELAY_DRAIN_MS, ...(log ? { log } : {}) } };
}

/**
 * Run a plan in the foreground. No descriptor of the caller enters the container: without -t its stdio are pipes
 * that the executor copies to and from the caller's fds (plan.relay), with -t a pty whose master the CLI copies.
 * The executor runs in its own process group; signals the CLI receives are forwarded to it once, and it forwards
 * them to the container's init. Resolves with docker's exit code.
 */
export async function launch(
  plan: ExecPlan,
  opts: { pty?: Pty; interactive: boolean; ctx: Context; trace?: Tracer; killOn?: AbortSignal; onStarted?: (pid: number) => Promise<void> | void; timeoutMs?: number; attach?: Array<'stdin' | 'stdout' | 'stderr'>; log?: RelayPlan['log']; extraFds?: number[] },
): Promise<ExitStatus> {
  const { ctx, pty } = opts;
  // `run -a`: a stream not attached is relayed to /dev/null (output) or closed (stdin)
  const attached = (s: 'stdin' | 'stdout' | 'stderr') => !opts.attach || opts.attach.includes(s);
  const interactive = opts.interactive && attached('stdin');
  // this process's own fds are handed over without making their streams (ctx.stdioFds)
  const fd = (s: 'stdin' | 'stdout' | 'stderr') => ctx.stdioFds?.[s] ?? fdOf(ctx[s]);
  const out = attached('stdout') ? fd('stdout') ?? 'pipe' : 'ignore';
  const err = attached('stderr') ? fd('stderr') ?? 'pipe' : 'ignore';
  const stdio: [StdioSpec, StdioSpec, StdioSpec] = pty ? [pty.slave, pty.slave, pty.slave] : [interactive ? (fd('stdin') ?? 'pipe') : 'ignore', out, err];
  const run = pty ? plan : withRelay(plan, interactive, typeof out === 'number' ? out : undefined, typeof err === 'number' ? err : undefined, opts.log);
  let handle;
  try {
    handle = startExecutor(run, { stdio, detached: true, ...(opts.extraFds?.length ? { extraFds: opts.extraFds } : {}), ...(opts.killOn ? { signal: opts.killOn } : {}) });
  } finally {
    if (pty) fs.closeSync(pty.slave);
  }
  // output through pipes (ctx's streams have no fd) is all copied before the exit is reported: the executor's exit
  // can come before the last chunks are read
  const copied: Promise<unknown>[] = [];
  if (!pty) {
    if (stdio[0] === 'pipe' && ctx.stdin && handle.stdin) ctx.stdin.pipe(handle.stdin);
    for (const [i, from, to] of [[1, handle.stdout, ctx.stdout], [2, handle.stderr, ctx.stderr]] as const) {
      if (stdio[i] !== 'pipe' || !from) continue;
      from.pipe(to, { end: false });
      copied.push(new Promise((resolve) => from.once('close', resolve)));
    }
  }
  // -t: the CLI copies the pty, so it writes the log too (without a tty the executor does)
  const ttyLog = pty && opts.log ? new K8sFileLog(opts.log.path, opts.log.maxSize) : undefined;
  const session = pty ? attachTty({ master: pty.master, stdin: ctx.stdin, stdout: ctx.stdout, interactive, exited: handle.exited, ...(ttyLog ? { onOutput: (c: Buffer) => ttyLog.write('stdout', c) } : {}) }) : undefined;
  const h = handle;
  // SIGHUP means the CLI's terminal is gone: forward it, and if the container outlives a grace period, kill it
  // (there is no daemon to keep a foreground container once its CLI has lost its terminal)
  let hangupTimer: NodeJS.Timeout | undefined;
  const onSignal = (sig: NodeJS.Signals) => () => {
    h.kill(sig);
    if (sig === 'SIGHUP' && !hangupTimer) hangupTimer = setTimeout(() => h.kill('SIGKILL'), HANGUP_GRACE_MS).unref();
  };
  const forwarders = FORWARDED.map((sig) => [sig, onSignal(sig)] as const);
  for (const [sig, fn] of forwarders) process.on(sig, fn);
  try {
    // a deadline (healthcheck probes): SIGKILL the executor, which takes its process down with it
    const deadline = opts.timeoutMs ? setTimeout(() => h.kill('SIGKILL'), opts.timeoutMs) : undefined;
    void handle.exited.then(() => deadline && clearTimeout(deadline));
    const pid = await handle.started;
    opts.trace?.mark('executor: container exec');
    await opts.onStarted?.(pid);
    const exit = await handle.exited;
    if (copied.length) await Promise.race([Promise.all(copied), new Promise((r) => setTimeout(r, RELAY_DRAIN_MS).unref())]);
    await session?.done;
    return { exitCode: exit.exitCode, signal: exit.signal ?? 0 };
  } catch (err) {
    session?.close();
    await handle.exited;
    throw err;
  } finally {
    ttyLog?.close();
    if (hangupTimer) clearTimeout(hangupTimer);
    for (const [sig, fn] of forwarders) process.off(sig, fn);
  }
}
