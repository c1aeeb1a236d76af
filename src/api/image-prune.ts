import type { Context } from '../context.js';
import { ImageStore } from '../image/store/images.js';
import type { ImageRecord } from '../image/store/types.js';
import type { ImageConfig } from '../image/manifest.js';
import { collectLayersLocked } from './rmi.js';
import { withLock } from '../state/lock.js';
import { imageUsers } from '../container/image-pins.js';
import { sweepTmp } from '../storage/tmp.js';
import { pruneCacheEntries } from '../build/builder/cache.js';
import { PRUNE_FILTERS, parseFilters, pruneMatcher } from './prune-filters.js';
import { UsageError } from '../errors.js';

export interface PruneOptions {
  /** remove every unused image, not only dangling (untagged) ones */
  all?: boolean;
  /** docker's filters: until=, label=KEY[=VALUE], label!=KEY[=VALUE], dangling=true|false (false: as --all) */
  filters?: string[];
}

export interface PruneResult {
  deleted: string[];
  untagged: string[];
  reclaimed: number;
}

/**
 * Remove dangling images (or all with `all`) that no container uses (image-pins.ts) and match the filters, then
 * (with `all`) the build cache entries left dangling (cache.ts pruneCacheEntries: holding a layer no image holds
 * any more), then unused layers; under layers.lock exclusive, taken before images.lock, so a racing `create`
 * either pins its image first or finds it gone.
 */
export async function pruneImages(options: PruneOptions, ctx: Context): Promise<PruneResult> {
  const filters = parseFilters(options.filters ?? [], [...PRUNE_FILTERS, 'dangling']);
  const dangling = filters.get('dangling')?.at(-1)?.toLowerCase();
  if (dangling !== undefined && !['true', 'false', '1', '0'].includes(dangling)) throw new UsageError(`invalid filter 'dangling=${dangling}'`);
  const all = Boolean(options.all) || dangling === 'false' || dangling === '0';
  const matches = pruneMatcher(filters);
  const store = new ImageStore(ctx.root);
  const result: PruneResult = { deleted: [], untagged: [], reclaimed: 0 };
  await withLock(store.lockPath('layers'), 'exclusive', async () => {
    const users = imageUsers(ctx.root);
    const labels = filters.has('label') || filters.has('label!') ? await configLabels(store, Object.values((await store.read()).images)) : new Map<string, Record<string, string>>();
    await store.update((index) => {
      for (const img of Object.values(index.images)) {
        if ((!all && img.repoTags.length > 0) || users.has(img.id)) continue;
        if (!matches({ created: img.created, labels: labels.get(img.id) ?? {} })) continue;
        result.untagged.push(...img.repoTags);
        result.deleted.push(img.id);
        delete index.images[img.id];
      }
      if (all) pruneCacheEntries(index, { all: false, matches: () => true });
    });
    Object.assign(result, await collectCounted(store, result));
  });
  await sweepTmp(ctx.root);
  return result;
}

/** Collect unused layers and blobs (rmi.ts), adding each removed layer to `into` with its size. */
export async function collectCounted(store: ImageStore, into: { deleted: string[]; reclaimed: number }): Promise<{ deleted: string[]; reclaimed: number }> {
  const sizes = new Map<string, number>();
  for (const chain of await store.layers.list()) sizes.set(chain, (await store.layers.meta(chain))?.size ?? 0);
  const out = { deleted: [...into.deleted], reclaimed: into.reclaimed };
  for (const chain of await collectLayersLocked(store)) {
    out.deleted.push(chain);
    out.reclaimed += sizes.get(chain) ?? 0;
  }
  return out;
}

/** image id → its config's Labels (label filters only: reading every config costs a file each). */
async function configLabels(store: ImageStore, images: ImageRecord[]): Promise<Map<string, Record<string, string>>> {
  const out = new Map<string, Record<string, string>>();
  for (const img of images) {
    try {
      const config = JSON.parse((await store.blobs.get(img.configDigest)).toString('utf8')) as ImageConfig;
      out.set(img.id, config.config?.Labels ?? {});
    } catch {
      out.set(img.id, {});
    }
  }
  return out;
}
