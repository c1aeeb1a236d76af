import type { Context } from '../context.js';
import { ImageStore } from '../image/store/images.js';
import { collectLayersLocked } from './rmi.js';
import { withLock } from '../state/lock.js';
import { imageUsers } from '../container/image-pins.js';
import { sweepTmp } from '../storage/tmp.js';

export interface PruneOptions {
  /** remove every unused image, not only dangling (untagged) ones */
  all?: boolean;
}

export interface PruneResult {
  deleted: string[];
  untagged: string[];
  reclaimed: number;
}

/**
 * Remove dangling images (or all with `all`) that no container uses (image-pins.ts), then unused layers; under
 * layers.lock exclusive, taken before images.lock, so a racing `create` either pins its image first or finds it gone.
 */
export async function pruneImages(options: PruneOptions, ctx: Context): Promise<PruneResult> {
  const store = new ImageStore(ctx.root);
  const result: PruneResult = { deleted: [], untagged: [], reclaimed: 0 };
  await withLock(store.lockPath('layers'), 'exclusive', async () => {
    const users = imageUsers(ctx.root);
    await store.update((index) => {
      for (const img of Object.values(index.images)) {
        if ((!options.all && img.repoTags.length > 0) || users.has(img.id)) continue;
        result.untagged.push(...img.repoTags);
        result.deleted.push(img.id);
        delete index.images[img.id];
      }
      // -a also drops the build cache (docker's `builder prune` part of it)
      if (options.all) delete index.buildCache;
    });
    const sizes = new Map<string, number>();
    for (const chain of await store.layers.list()) sizes.set(chain, (await store.layers.meta(chain))?.size ?? 0);
    for (const chain of await collectLayersLocked(store)) {
      result.deleted.push(chain);
      result.reclaimed += sizes.get(chain) ?? 0;
    }
  });
  await sweepTmp(ctx.root);
  return result;
}
