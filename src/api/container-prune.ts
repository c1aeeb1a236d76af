import { collectHookGarbage } from '../container/hooks.js';
import fs from 'node:fs';
import type { Context } from '../context.js';
import { TsdockError } from '../errors.js';
import { ORPHAN_GRACE_MS, containerDir, listContainerIds, loadRecordOrOrphan, rwSize, tryContainerLock } from '../container/state.js';
import { containerState, isActive } from '../container/status.js';
import { removeContainer } from './rm.js';
import { PRUNE_FILTERS, parseFilters, pruneMatcher } from './prune-filters.js';

export interface PruneContainersOptions {
  /** docker's filters: until=TIMESTAMP|DURATION, label=KEY[=VALUE], label!=KEY[=VALUE] */
  filters?: string[];
}

export interface PruneContainersResult {
  deleted: string[];
  /** bytes the removed containers had written (their SizeRw) */
  reclaimed: number;
}

/**
 * `container prune`: every container that is not running (created, exited, dead). An orphan (no container.json)
 * is pruned only when it is older than ORPHAN_GRACE_MS and its lock is free: a younger one may be a `run` still
 * preparing its container.
 */
export async function pruneContainers(opts: PruneContainersOptions, ctx: Context): Promise<PruneContainersResult> {
  const matches = pruneMatcher(parseFilters(opts.filters ?? [], PRUNE_FILTERS));
  const now = Date.now();
  const result: PruneContainersResult = { deleted: [], reclaimed: 0 };
  for (const id of listContainerIds(ctx.root)) {
    const loaded = loadRecordOrOrphan(ctx.root, id);
    if (!loaded) continue;
    const { record, orphan } = loaded;
    if (orphan && !orphanIsStale(ctx.root, id, now)) continue;
    if (isActive(await containerState(ctx.root, id, orphan))) continue;
    if (!matches({ created: record.Created, labels: record.Config.Labels ?? {} })) continue;
    const size = rwSize(ctx.root, id);
    try {
      await removeContainer(id, {}, ctx);
    } catch (err) {
      // started or removed meanwhile: not ours to prune any more
      if (err instanceof TsdockError) continue;
      throw err;
    }
    result.deleted.push(id);
    result.reclaimed += size;
  }
  // resources of containers that vanished without their onRemove (a crash) go now
  await collectHookGarbage(new Set(listContainerIds(ctx.root)), ctx);
  return result;
}

function orphanIsStale(root: string, id: string, now: number): boolean {
  const st = fs.statSync(containerDir(root, id), { throwIfNoEntry: false });
  if (!st || now - st.mtimeMs < ORPHAN_GRACE_MS) return false;
  const lock = tryContainerLock(root, id);
  lock?.release();
  return lock !== undefined;
}
