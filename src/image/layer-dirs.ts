import type { ImageStore } from './store/images.js';
import type { LayerRef } from './store/types.js';
import { registerOpaqueDirs } from '../storage/imagefs.js';

/** The diff directories of `layers`, top (newest) first, their opaque directories registered for storage/imagefs. */
export async function layerDirs(store: ImageStore, layers: readonly Pick<LayerRef, 'chainId'>[]): Promise<string[]> {
  const out: string[] = [];
  for (const l of [...layers].reverse()) {
    const d = store.layers.diffDir(l.chainId);
    const dirs = (await store.layers.meta(l.chainId))?.opaqueDirs;
    if (dirs) registerOpaqueDirs(d, dirs);
    out.push(d);
  }
  return out;
}
