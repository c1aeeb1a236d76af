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

/** Wait (bounded) until the container's monitor process has ended: it writes exit.json, then exits. */
export async function waitMonitorGone(root: string, id: string, ms: number): Promise<void> {
  const state = loadState(root, id);
  if (!state?.MonitorPid) return;
  const deadline = Date.now() + ms;
  while (Date.now() < deadline && isAlive(state.MonitorPid, state.MonitorStartTime)) await new Promise((r) => setTimeout(r, 20));
}

/** Wait until the container is no longer running; true if it stopped within `ms`. */
export async function waitStopped(root: string, id: string, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (runningPid(root, id) === undefined) return true;
    if (Date.now() >= deadline) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
}
