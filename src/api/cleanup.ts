import '../container/network.js'; // registers the network's release hooks
import type { Context } from '../context.js';
import { loadExit, loadRecord, loadState, saveState, withContainerLock } from '../container/state.js';
import { removeContainer } from './rm.js';
import { startContainer } from './start.js';
import { runHooks } from '../container/hooks.js';
import { runningPid } from '../container/running.js';

/** docker's restart policies, decided when a detached container has exited. */
export function shouldRestart(policy: { Name: string; MaximumRetryCount: number }, exitCode: number, restartCount: number, stoppedByUser: boolean): boolean {
  if (stoppedByUser) return false;
  switch (policy.Name) {
    case 'always':
    case 'unless-stopped':
      return true;
    case 'on-failure':
      return exitCode !== 0 && (policy.MaximumRetryCount === 0 || restartCount < policy.MaximumRetryCount);
    default:
      return false;
  }
}

/**
 * `tsdock container cleanup ID`: the exit command the monitor runs once exit.json is written. Applies --rm
 * (remove the container and its anonymous volumes) or the restart policy (start it again after docker's
 * doubling delay, 100 ms to 10 s), else records the final state. Restart policies therefore hold for as long
 * as containers keep exiting through their monitor; nothing restarts them after a host reboot (no daemon).
 */
export async function cleanupContainer(id: string, ctx: Context): Promise<void> {
  const record = loadRecord(ctx.root, id);
  const exit = loadExit(ctx.root, id);
  if (!record || !exit) return;
  // a late cleanup of an earlier run (the container was started again meanwhile) must not touch the new run:
  // checked and done under the lock a start holds while it creates the new run's cgroup
  const stopped = await withContainerLock(ctx.root, id, async () => {
    if (runningPid(ctx.root, id) !== undefined) return false;
    await runHooks('afterStop', { id, record }, ctx);
    return true;
  });
  if (!stopped) return;
  if (record.HostConfig.AutoRemove) {
    await removeContainer(id, { force: true, volumes: true }, ctx);
    return;
  }
  const state = loadState(ctx.root, id);
  const count = state?.RestartCount ?? 0;
  if (shouldRestart(record.HostConfig.RestartPolicy, exit.ExitCode, count, Boolean(state?.StoppedByUser))) {
    await new Promise((r) => setTimeout(r, Math.min(10_000, 100 * 2 ** Math.min(count, 7))));
    if (loadState(ctx.root, id)?.StoppedByUser) return;
    await startContainer(id, ctx, { restarting: true });
    return;
  }
  await withContainerLock(ctx.root, id, async () => {
    const s = loadState(ctx.root, id);
    if (s && runningPid(ctx.root, id) === undefined) await saveState(ctx.root, id, { ...s, Status: 'exited', ExitCode: exit.ExitCode, FinishedAt: exit.FinishedAt });
  });
}
