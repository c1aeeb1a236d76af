import type { Context } from '../context.js';
import { TsdockError } from '../errors.js';
import { resolveContainer } from '../container/lookup.js';
import { loadRecord, loadState, saveState, withContainerLock } from '../container/state.js';
import { runningPid } from '../container/running.js';
import { cgroupOf } from '../container/cgroup.js';
import type { ContainerRecord } from '../container/record.js';
import type { Cgroup } from '../cgroups/index.js';
import { containerEvent } from '../container/events.js';

function cgroupFor(record: ContainerRecord | undefined, id: string, verb: string): Cgroup {
  const cg = cgroupOf(record);
  if (!cg?.exists()) {
    throw new TsdockError(`cannot ${verb} container ${id}: it has no cgroup (rootless containers need a delegated cgroup v2 subtree to be frozen)`, { exitCode: 125 });
  }
  return cg;
}

/** docker pause: freeze every process of the container (v1 freezer, v2 cgroup.freeze); state "paused". */
export async function pauseContainer(ref: string, ctx: Context): Promise<string> {
  const id = resolveContainer(ctx.root, ref);
  return withContainerLock(ctx.root, id, async () => {
    const record = loadRecord(ctx.root, id);
    const state = loadState(ctx.root, id);
    if (runningPid(ctx.root, id) === undefined || !state) throw new TsdockError(`container ${id} is not running`, { exitCode: 1 });
    if (state.Status === 'paused') throw new TsdockError(`container ${id} is already paused`, { exitCode: 1 });
    await cgroupFor(record, id, 'pause').freeze();
    await saveState(ctx.root, id, { ...state, Status: 'paused' });
    if (record) containerEvent(ctx.root, 'pause', record);
    return record?.Name ?? id;
  });
}

/** docker unpause: thaw it; state "running" again. */
export async function unpauseContainer(ref: string, ctx: Context): Promise<string> {
  const id = resolveContainer(ctx.root, ref);
  return withContainerLock(ctx.root, id, async () => {
    const record = loadRecord(ctx.root, id);
    const state = loadState(ctx.root, id);
    if (!state || state.Status !== 'paused' || runningPid(ctx.root, id) === undefined) throw new TsdockError(`container ${id} is not paused`, { exitCode: 1 });
    await cgroupFor(record, id, 'unpause').thaw();
    await saveState(ctx.root, id, { ...state, Status: 'running' });
    if (record) containerEvent(ctx.root, 'unpause', record);
    return record?.Name ?? id;
  });
}

/** stop/kill of a paused container: the signal is pending, thaw so it is delivered, and record "running". */
export async function thawForSignal(root: string, id: string, record: ContainerRecord | undefined): Promise<void> {
  const state = loadState(root, id);
  if (state?.Status !== 'paused') return;
  const cg = cgroupOf(record);
  if (cg?.exists()) await cg.thaw();
  await saveState(root, id, { ...state, Status: 'running' });
}
