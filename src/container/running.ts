import fs from 'node:fs';
import path from 'node:path';
import { loadState } from './state.js';
import { actionablePid, isAlive } from './status.js';

/**
 * The host pid of a container's init while it runs or is paused: status.ts's `liveness` is `running` (not in the
 * monitor's drain window, where the state still reads running but no init is left to act on).
 */
export function runningPid(root: string, id: string): number | undefined {
  if (fs.existsSync(path.join(root, 'containers', id, 'exit.json'))) return undefined;
  return actionablePid(loadState(root, id), false);
}

/**
 * Poll `done` until it holds or `ms` pass; true if it held. The first checks come after 1, 2, 4, ... ms (at most
 * 20 apart): a container usually ends within a few ms of its signal, and a fixed 20 ms step cost a stop up to 40 ms.
 */
export async function pollUntil(done: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (let step = 1; ; step = Math.min(20, step * 2)) {
    if (done()) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, step));
  }
}

/** Wait (bounded) until the container's monitor process has ended: it writes exit.json, then exits. */
export async function waitMonitorGone(root: string, id: string, ms: number): Promise<void> {
  const state = loadState(root, id);
  if (!state?.MonitorPid) return;
  const { MonitorPid: pid, MonitorStartTime: start } = state;
  await pollUntil(() => !isAlive(pid, start), ms);
}

/** Wait until the container is no longer running; true if it stopped within `ms`. */
export function waitStopped(root: string, id: string, ms: number): Promise<boolean> {
  return pollUntil(() => runningPid(root, id) === undefined, ms);
}
