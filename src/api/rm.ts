import '../container/network.js'; // registers the network's release hooks
import { runHooks } from '../container/hooks.js';
import { containerEvent } from '../container/events.js';
import fs from 'node:fs';
import type { Context } from '../context.js';
import { TsdockError, cleanupFailed } from '../errors.js';
import { releaseName } from '../container/store.js';
import { containerDir, containerFile, loadRecordOrOrphan, saveState, withContainerLock } from '../container/state.js';
import { containerState, isActive, isAlive, liveness } from '../container/status.js';
import { noSuchContainer, resolveContainer } from '../container/lookup.js';
import type { ContainerState } from '../container/record.js';
import { removeTree } from '../storage/tmp.js';
import { VolumeStore } from '../volume/store.js';
import { volumeUsers } from './volume.js';
import { killCgroup } from '../container/cgroup.js';
import { pollUntil } from '../container/running.js';
import type { CgroupLocation } from '../cgroups/index.js';

export interface RemoveContainersOptions {
  /** ids, id prefixes or names */
  containers: string[];
  /** kill a running container first (-f) */
  force?: boolean;
  /** also remove the container's anonymous volumes (-v) */
  volumes?: boolean;
}

export interface RemoveContainersResult {
  /** the arguments whose containers were removed, as given (what docker prints) */
  removed: string[];
  errors: Error[];
}

/** `rm`: every argument is tried; the failures are collected. */
export async function removeContainers(opts: RemoveContainersOptions, ctx: Context): Promise<RemoveContainersResult> {
  const result: RemoveContainersResult = { removed: [], errors: [] };
  for (const ref of opts.containers) {
    try {
      await removeContainer(resolveContainer(ctx.root, ref), { force: opts.force, volumes: opts.volumes }, ctx);
      result.removed.push(ref);
    } catch (err) {
      result.errors.push(err as Error);
    }
  }
  return result;
}

/** How long `rm -f` waits for a killed container to be gone. */
export const KILL_TIMEOUT_MS = 5000;

/**
 * Remove one container, under its lock: a running one only with `force` (SIGKILL to its init, then wait for
 * exit.json or for the init and the monitor to be gone); the state becomes `removing` (ps shows "Removal In
 * Progress"), the directory is removed, the name released, and with `volumes` the anonymous volumes removed.
 * A `removing` container (an rm that died half-way) is simply removed again.
 */
export async function removeContainer(id: string, opts: { force?: boolean; volumes?: boolean }, ctx: Context): Promise<void> {
  const root = ctx.root;
  await withContainerLock(root, id, async () => {
    const loaded = loadRecordOrOrphan(root, id);
    if (!loaded) throw noSuchContainer(id);
    const { record, orphan } = loaded;
    const name = record.Name.replace(/^\//, '');
    const state = await containerState(root, id, orphan, { update: false });
    if (isActive(state)) {
      if (!opts.force) {
        if (state.Status === 'paused') throw new TsdockError(`cannot remove container "/${name}": container is paused: unpause and stop the container before removing or force remove`, { exitCode: 1 });
        throw new TsdockError(`cannot remove container "/${name}": container is running: stop the container before removing or force remove`, { exitCode: 1 });
      }
      await killAndWait(root, id, state, name, ctx, record.Cgroup);
    }
    if (!orphan) await saveState(root, id, { ...state, Status: 'removing' }, { fsync: false });
    await runHooks('onRemove', { id, record }, ctx);
    await removeTree(containerDir(root, id));
    if (name) releaseName(root, name, id);
    containerEvent(root, 'destroy', record);
    if (opts.volumes) await removeVolumes(record.AnonymousVolumes ?? [], ctx);
  });
}

async function killAndWait(root: string, id: string, state: ContainerState, name: string, ctx: Context, cgroup?: CgroupLocation): Promise<void> {
  const signal = ctx.signal;
  // every process of its cgroup (thawed first when paused), then the init in case there is no cgroup
  await killCgroup(cgroup).catch(cleanupFailed(ctx, `kill the cgroup of ${name}`));
  if (isAlive(state.Pid, state.PidStartTime)) {
    try {
      process.kill(state.Pid, 'SIGKILL');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    }
  }
  const exitFile = containerFile(root, id, 'exit');
  const gone = await pollUntil(() => {
    signal?.throwIfAborted();
    return fs.existsSync(exitFile) || liveness(state) === 'gone';
  }, KILL_TIMEOUT_MS);
  if (!gone && isAlive(state.Pid, state.PidStartTime)) {
    throw new TsdockError(`cannot remove container "/${name}": could not kill the container: it is still running ${KILL_TIMEOUT_MS / 1000}s after SIGKILL`, { exitCode: 1 });
  }
}

/** docker rm -v: anonymous volumes go with the container, unless another container uses one (a warning then). */
async function removeVolumes(names: string[], ctx: Context): Promise<void> {
  if (!names.length) return;
  const store = new VolumeStore(ctx.root);
  const inUse = volumeUsers(ctx);
  for (const n of names) {
    try {
      await store.removeVolume(n, { inUse });
    } catch (err) {
      if (!/no such volume/i.test((err as Error).message)) ctx.warn?.((err as Error).message);
    }
  }
}
