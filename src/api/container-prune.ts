import { collectHookGarbage } from '../container/hooks.js';
import fs from 'node:fs';
import type { Context } from '../context.js';
import { TsdockError, UsageError } from '../errors.js';
import { ORPHAN_GRACE_MS, containerDir, listContainerIds, loadRecordOrOrphan, rwSize, tryContainerLock } from '../container/state.js';
import { containerState, isActive } from '../container/status.js';
import { parseTimeArg } from '../container/logs.js';
import { removeContainer } from './rm.js';
import { labelsMatch } from './ps.js';

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
  const filters = parseFilters(opts.filters ?? []);
  const now = Date.now();
  const until = filters.get('until')?.map((v) => parseTimeArg(v, now, 'until'));
  const result: PruneContainersResult = { deleted: [], reclaimed: 0 };
  for (const id of listContainerIds(ctx.root)) {
    const loaded = loadRecordOrOrphan(ctx.root, id);
    if (!loaded) continue;
    const { record, orphan } = loaded;
    if (orphan && !orphanIsStale(ctx.root, id, now)) continue;
    if (isActive(await containerState(ctx.root, id, orphan))) continue;
    if (until && !until.every((t) => Date.parse(record.Created) < Date.parse(t))) continue;
    const labels = record.Config.Labels ?? {};
    if (!labelsMatch(filters.get('label'), labels) || (filters.get('label!') ?? []).some((l) => labelsMatch([l], labels))) continue;
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

function parseFilters(args: string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const f of args) {
    const i = f.indexOf('=');
    if (i < 0) throw new UsageError('bad format of filter (expected name=value)');
    const key = f.slice(0, i).trim().toLowerCase();
    if (!['until', 'label', 'label!'].includes(key)) throw new UsageError(`invalid filter '${key}'`);
    out.set(key, [...(out.get(key) ?? []), f.slice(i + 1).trim()]);
  }
  return out;
}
