import type { Context } from './context.js';
import { ImageStore } from '../image/store/images.js';
import { collectLayers } from './rmi.js';
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

/** Remove dangling images (or all with `all`; containers will pin images once they exist), then unused layers. */
export async function pruneImages(options: PruneOptions, ctx: Context): Promise<PruneResult> {
  const store = new ImageStore(ctx.root);
  const result: PruneResult = { deleted: [], untagged: [], reclaimed: 0 };
  await store.update((index) => {
    for (const img of Object.values(index.images)) {
      if (!options.all && img.repoTags.length > 0) continue;
      result.untagged.push(...img.repoTags);
      result.deleted.push(img.id);
      delete index.images[img.id];
    }
  });
  const sizes = new Map<string, number>();
  for (const chain of await store.layers.list()) sizes.set(chain, (await store.layers.meta(chain))?.size ?? 0);
  for (const chain of await collectLayers(store)) {
    result.deleted.push(chain);
    result.reclaimed += sizes.get(chain) ?? 0;
  }
  await sweepTmp(ctx.root);
  return result;
}
