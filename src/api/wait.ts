import fs from 'node:fs';
import type { Context } from '../context.js';
import { containerDir, containerExists, loadExit, loadRecordOrOrphan } from '../container/state.js';
import { MONITOR_DIED, containerState, isActive } from '../container/status.js';
import type { ContainerState } from '../container/record.js';
import { noSuchContainer, resolveContainer } from '../container/lookup.js';

/** How often `wait` looks at the container's files (besides waking up on inotify events in its directory). */
export const WAIT_POLL_MS = 50;

/**
 * `wait`: block until the container is not running (docker's default "not-running" condition: a created container
 * returns at once) and return its exit code. Reads the derived state (so a container whose monitor died also
 * ends the wait) every WAIT_POLL_MS and whenever something changes in its directory: exit.json is seen before
 * an `--rm` cleanup (a new tsdock process) can remove the directory.
 */
export async function waitContainer(ref: string, ctx: Context): Promise<number> {
  const id = resolveContainer(ctx.root, ref);
  const loaded = loadRecordOrOrphan(ctx.root, id);
  if (!loaded) throw noSuchContainer(ref);
  let wake: (() => void) | undefined;
  let watcher: fs.FSWatcher | undefined;
  try {
    // the log's appends are no news; exit.json and state.json (written temp + rename) are
    watcher = fs.watch(containerDir(ctx.root, id), (_event, file) => {
      if (!file?.startsWith('ctr.log')) wake?.();
    });
    watcher.on('error', () => {});
  } catch {
    watcher = undefined; // polling alone
  }
  try {
    for (;;) {
      ctx.signal?.throwIfAborted();
      const state = await containerState(ctx.root, id, loaded.orphan);
      if (!isActive(state)) return state.Error === MONITOR_DIED ? settle(ctx.root, id, state) : (state.ExitCode ?? 0);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, WAIT_POLL_MS);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      // removed while we waited (rm -f by someone else) before we saw it exit
      if (!containerExists(ctx.root, id)) throw noSuchContainer(ref);
    }
  } finally {
    watcher?.close();
  }
}

/** How long a fresh "monitor died" verdict waits for an exit.json that is still on its way. */
export const MONITOR_DIED_GRACE_MS = 1000;

/**
 * A container whose init is gone without exit.json is declared dead by its monitor's absence; a foreground `run`
 * writes exit.json itself just after its executor reaped the init, and may not have recorded a monitor. So a
 * verdict made in the last moments waits briefly for exit.json before 137 is believed.
 */
async function settle(root: string, id: string, state: ContainerState): Promise<number> {
  const since = Date.now() - Date.parse(state.FinishedAt ?? '');
  for (let waited = 0; since + waited < MONITOR_DIED_GRACE_MS; waited += WAIT_POLL_MS) {
    const exit = loadExit(root, id);
    if (exit) return exit.ExitCode;
    if (!containerExists(root, id)) break;
    await new Promise((resolve) => setTimeout(resolve, WAIT_POLL_MS));
  }
  return loadExit(root, id)?.ExitCode ?? state.ExitCode ?? 137;
}
