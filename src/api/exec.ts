import type { Context } from '../context.js';
import { TsdockError, UsageError } from '../errors.js';
import { resolveContainer } from '../container/lookup.js';
import { runningPid } from '../container/running.js';
import { loadRecord, loadState } from '../container/state.js';
import { execJoinPlan, type ExecRequest } from '../container/exec-join-plan.js';
import { startDetachedExec } from '../runtime/exec-join.js';
import { launch } from '../runtime/launch.js';
import { openTerminal } from '../runtime/tty.js';

export interface ExecOptions extends ExecRequest {
  container: string;
  interactive?: boolean;
  detach?: boolean;
  /** kill the command after this long (healthcheck probes) */
  timeoutMs?: number;
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
  const plan = execJoinPlan(id, pid, loadRecord(ctx.root, id), opts, ctx);
  if (opts.detach) {
    await startDetachedExec(plan);
    return 0;
  }
  const out = ctx.stdout as { columns?: number; rows?: number };
  const pty = opts.tty ? openTerminal({ rows: out.rows ?? 24, cols: out.columns ?? 80 }) : undefined;
  const exit = await launch(plan, { pty, interactive: Boolean(opts.interactive), ctx, timeoutMs: opts.timeoutMs });
  return exit.exitCode;
}
