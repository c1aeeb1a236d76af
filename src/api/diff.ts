import type { Context } from '../context.js';
import { imageLayerDirs, openContainerView } from '../container/rootfs-view.js';
import { cmpPath, upperChanges, vfsChanges, type Change } from '../container/changes.js';

export type { Change, ChangeKind } from '../container/changes.js';
export { cmpPath };

/** docker diff: what the container changed relative to its image, sorted by path. */
export async function containerDiff(ref: string, ctx: Context): Promise<Change[]> {
  const view = await openContainerView(ctx.root, ref);
  const image = view.driver === 'vfs' ? await imageLayerDirs(ctx.root, view.image) : view.imageLayers;
  const changes = view.driver === 'vfs' ? vfsChanges(view, image) : upperChanges(view, image);
  return changes.sort((a, b) => cmpPath(a.path, b.path));
}
