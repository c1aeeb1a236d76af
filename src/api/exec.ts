import fs from 'node:fs';
import type { Context } from '../context.js';
import { TsdockError, UsageError } from '../errors.js';
import { resolveContainer } from '../container/lookup.js';
import { runningPid } from '../container/running.js';
import { loadRecord, loadState } from '../container/state.js';
import { execJoinPlan, type ExecRequest } from '../container/exec-join-plan.js';
import { startDetachedExec } from '../runtime/exec-join.js';
import { launch } from '../runtime/launch.js';
import { openTerminal } from '../runtime/tty.js';
import { containerEvent } from '../container/events.js';
import { newContainerId } from '../container/names.js';

export interface ExecOptions extends ExecRequest {
  container: string;
  interactive?: boolean;
  detach?: boolean;
  /** kill the command after this long (healthcheck probes) */
  timeoutMs?: number;
  /** podman's --preserve-fds: this process's fds 3..3+N-1 become the command's 3..3+N-1 */
  preserveFds?: number;
}

/**
 * docker exec: run a command in a running container, joining every namespace of its init (through the C
 * executor: a threaded Node process cannot setns into a mount namespace) with the container's own security
 * settings: capabilities (all with --privileged), no_new_privs, seccomp. Resolves with the command's exit code.
 */
export async function execInContainer(opts: ExecOptions, ctx: Context): Promise<number> {
  if (opts.command.length === 0) throw new UsageError('exec requires at least 2 arguments: a container and a command');
  const id = resolveContainer(ctx.root, opts.container);
  const pid = runningPid(ctx.root, id);
  if (pid === undefined) throw new TsdockError(`container ${id} is not running`, { exitCode: 125 });
  if (loadState(ctx.root, id)?.Status === 'paused') throw new TsdockError(`container ${id} is paused, unpause the container before exec`, { exitCode: 125 });
  const extraFds = passedFds(opts.preserveFds ?? 0);
  const record = loadRecord(ctx.root, id);
  const joined = execJoinPlan(id, pid, record, opts, ctx);
  // the executor gets them as its fds 5.. (extraFds), the command as 3..
  const plan = extraFds.length ? { ...joined, process: { ...joined.process, preserveFds: { from: 5, count: extraFds.length } } } : joined;
  // docker's exec events: the command in the action, the exec's id in the attributes
  const execID = newContainerId();
  const event = (action: string, extra: Record<string, string> = {}) => record && containerEvent(ctx.root, action, record, { execID, ...extra });
  const command = opts.command.join(' ');
  event(`exec_create: ${command}`);
  if (opts.detach) {
    await startDetachedExec(plan, { extraFds });
    event(`exec_start: ${command}`);
    return 0;
  }
  const out = ctx.stdout as { columns?: number; rows?: number };
  const pty = opts.tty ? openTerminal({ rows: out.rows ?? 24, cols: out.columns ?? 80 }) : undefined;
  const exit = await launch(plan, { pty, interactive: Boolean(opts.interactive), ctx, timeoutMs: opts.timeoutMs, extraFds, onStarted: async () => event(`exec_start: ${command}`) });
  event('exec_die', { exitCode: String(exit.exitCode) });
  return exit.exitCode;
}

/** fds 3..3+n-1 of this process, each checked to be open (podman's error otherwise) */
function passedFds(n: number): number[] {
  const fds = Array.from({ length: n }, (_, i) => 3 + i);
  for (const fd of fds) {
    try {
      fs.fstatSync(fd);
    } catch {
      throw new TsdockError(`file descriptor ${fd} is not available - the preserve-fds option requires that all file descriptors must be passed`, { exitCode: 125 });
    }
  }
  return fds;
}
