import type { Context } from '../context.js';
import { ImageStore } from '../image/store/images.js';
import { withLock } from '../state/lock.js';
import type { BuildCacheEntry } from '../image/store/types.js';
import { imageUsers } from '../container/image-pins.js';
import { sweepTmp } from '../storage/tmp.js';
import { dropOrphanIntermediates, pruneCacheEntries } from '../build/builder/cache.js';
import { collectCounted } from './image-prune.js';
import { PRUNE_FILTERS, parseFilters, pruneMatcher } from './prune-filters.js';

export interface BuilderPruneOptions {
  /** every cache entry, not only dangling ones */
  all?: boolean;
  /** until= (the entry's creation); label=/label!= match nothing/everything: cache entries carry no labels */
  filters?: string[];
  /** bytes of cache to keep (`--keep-storage`): the oldest entries go until the cache's own layers weigh no more */
  keepStorage?: number;
}

export interface BuilderPruneResult {
  /** the cache entries' keys, then the intermediate images and the layers that went with them */
  deleted: string[];
  /** bytes of the removed layers (unpacked) */
  reclaimed: number;
}

/**
 * `builder prune`: drop build cache entries (dangling ones, all with `all`), then the build's intermediate images
 * no remaining entry names and no container uses, then the layers and blobs nothing holds any more. Same locks
 * as image prune (layers.lock exclusive, then images.lock).
 */
export async function pruneBuildCache(options: BuilderPruneOptions, ctx: Context): Promise<BuilderPruneResult> {
  const matches = pruneMatcher(parseFilters(options.filters ?? [], PRUNE_FILTERS));
  const store = new ImageStore(ctx.root);
  let result: BuilderPruneResult = { deleted: [], reclaimed: 0 };
  await withLock(store.lockPath('layers'), 'exclusive', async () => {
    const users = imageUsers(ctx.root);
    const sizes = new Map<string, number>();
    if (options.keepStorage !== undefined) for (const chain of await store.layers.list()) sizes.set(chain, (await store.layers.meta(chain))?.size ?? 0);
    await store.update((index) => {
      const prune = { all: Boolean(options.all), matches: (e: BuildCacheEntry) => matches({ created: e.created, labels: {} }), keep: options.keepStorage, layerSize: (c: string) => sizes.get(c) ?? 0 };
      result.deleted.push(...pruneCacheEntries(index, prune));
      result.deleted.push(...dropOrphanIntermediates(index, (id) => users.has(id)));
    });
    result = await collectCounted(store, result);
  });
  await sweepTmp(ctx.root);
  return result;
}
