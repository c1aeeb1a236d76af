import type { Context } from '../context.js';
import { TsdockError, cleanupFailed } from '../errors.js';
import { resolveContainer } from '../container/lookup.js';
import { loadRecord, loadState, saveState } from '../container/state.js';
import { runningPid, waitMonitorGone, waitStopped } from '../container/running.js';
import { parseSignal } from '../container/signals.js';
import { killCgroup } from '../container/cgroup.js';
import { thawForSignal } from './pause.js';
import { containerEvent } from '../container/events.js';
import type { ContainerRecord } from '../container/record.js';

/** A signal to the container's init, and docker's `kill` event (`signal` attribute: the number). */
function signalPid(root: string, record: ContainerRecord | undefined, pid: number, sig: number): void {
  try {
    process.kill(pid, sig);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
  if (record) containerEvent(root, 'kill', record, { signal: String(sig) });
}

/** Remember that the user stopped it, so restart policies (always, unless-stopped) leave it stopped. */
async function markStoppedByUser(root: string, id: string): Promise<void> {
  const state = loadState(root, id);
  if (state) await saveState(root, id, { ...state, StoppedByUser: true });
}

/**
 * docker stop: the image's STOPSIGNAL (default SIGTERM) to the init, then SIGKILL after `timeout` seconds
 * (default 10). Stopping a container that is not running is not an error. Returns the container's name.
 */
export async function stopContainer(ref: string, opts: { timeout?: number; signal?: string }, ctx: Context): Promise<string> {
  const id = resolveContainer(ctx.root, ref);
  const record = loadRecord(ctx.root, id);
  const pid = runningPid(ctx.root, id);
  if (pid === undefined) return record?.Name ?? id;
  await markStoppedByUser(ctx.root, id);
  signalPid(ctx.root, record, pid, parseSignal(opts.signal ?? record?.Config.StopSignal, 'SIGTERM'));
  // a paused container gets the signal once thawed (docker does the same)
  await thawForSignal(ctx.root, id, record);
  const timeout = opts.timeout ?? 10;
  if (!(await waitStopped(ctx.root, id, Math.max(0, timeout) * 1000))) {
    const again = runningPid(ctx.root, id);
    if (again !== undefined) signalPid(ctx.root, record, again, 9);
    // and everything else in its cgroup
    await killCgroup(record?.Cgroup).catch(cleanupFailed(ctx, `kill the cgroup of ${record?.Name ?? id}`));
    if (!(await waitStopped(ctx.root, id, 10_000))) throw new TsdockError(`container ${record?.Name ?? id} did not stop after SIGKILL`);
  }
  // the init is gone, but its monitor may still be draining output: wait until it has written exit.json and
  // ended, so a following start (restart) cannot be overtaken by the old run's exit.json
  await waitMonitorGone(ctx.root, id, 5000);
  if (record) containerEvent(ctx.root, 'stop', record);
  return record?.Name ?? id;
}

/** docker kill: a signal (default SIGKILL) to a running container's init; not running is an error. */
export async function killContainer(ref: string, opts: { signal?: string }, ctx: Context): Promise<string> {
  const id = resolveContainer(ctx.root, ref);
  const record = loadRecord(ctx.root, id);
  const pid = runningPid(ctx.root, id);
  if (pid === undefined) throw new TsdockError(`cannot kill container: ${ref}: container ${id} is not running`, { exitCode: 1 });
  const sig = parseSignal(opts.signal, 'SIGKILL');
  if (sig === 9 || sig === 15) await markStoppedByUser(ctx.root, id);
  signalPid(ctx.root, record, pid, sig);
  await thawForSignal(ctx.root, id, record);
  return record?.Name ?? id;
}
