import path from 'node:path';
import type { Context } from '../context.js';
import { UsageError, cleanupFailed } from '../errors.js';
import { openContainerView, type ContainerView } from '../container/rootfs-view.js';
import type { LayerRef } from '../image/store/types.js';
import { committedConfig, writeChangesTar } from '../container/commit.js';
import { containerDiff } from './diff.js';
import { withoutMountSkeleton } from '../container/changes.js';
import { makeTmpDir, removeTree } from '../storage/tmp.js';
import { acquireLock, type LockHandle } from '../state/lock.js';
import { ImageStore } from '../image/store/images.js';
import { importLayerTar, recordImage } from '../image/commit-image.js';
import { hostPlatform, type ImageConfig } from '../image/manifest.js';
import { formatReference, parseReference } from '../image/reference.js';
import { parseChange } from '../image/config-change.js';
import { loadConfig } from './image-inspect.js';

export interface CommitOptions {
  container: string;
  reference?: string;
  changes?: string[];
  message?: string;
  author?: string;
}

export interface CommitResult {
  id: string;
  tag?: string;
}

/**
 * docker commit: the container's changes become one new layer (whiteouts as `.wh.` entries, opaque
 * directories as `.wh..wh..opq`) on top of its image's layers, with a new config.
 */
export async function commitContainer(opts: CommitOptions, ctx: Context): Promise<CommitResult> {
  const changes = (opts.changes ?? []).map(parseChange);
  const tag = opts.reference ? formatReference({ ...parseReference(opts.reference), digest: undefined }) : undefined;
  if (opts.reference && parseReference(opts.reference).digest) throw new UsageError(`invalid reference format: ${opts.reference} (a digest cannot be committed to)`);
  const view = await openContainerView(ctx.root, opts.container);
  const store = new ImageStore(ctx.root);
  const parentImage = view.image;
  const parentConfig: ImageConfig = parentImage
    ? await loadConfig(store, parentImage)
    : { architecture: hostPlatform().architecture, os: 'linux', rootfs: { type: 'layers', diff_ids: [] } };

  // held shared from the new layer's commit until the image is recorded: GC cannot take the layer in between
  const layersLock: LockHandle = await acquireLock(store.lockPath('layers'), 'shared');
  try {
    // 1-2. the layer of the container's changes, in the store keyed by its chain id
    const parentLayers = parentImage?.layers ?? [];
    const layer = await containerLayer(view, store, parentLayers, ctx);
    const layers = [...parentLayers, layer];

    // 3. the config: the parent's, the container's settings, then the -c changes
    const config = committedConfig(parentConfig, view.record, { diffIds: layers.map((l) => l.diffId), changes, author: opts.author, message: opts.message });
    // 4. the blobs and the index entry
    const id = await recordImage(store, config, layers, tag);
    return { id, tag };
  } finally {
    layersLock.release();
  }
}

/**
 * A container's changes as a layer over `parentLayers` (whiteouts as `.wh.` entries): the tar written in the
 * store's tmp dir, then imported (commit, and build's RUN). The caller holds layers.lock shared until the layer
 * is referenced.
 */
export async function containerLayer(view: ContainerView, store: ImageStore, parentLayers: LayerRef[], ctx: Context, opts: { clampMtime?: number; withoutMountSkeleton?: boolean } = {}): Promise<LayerRef> {
  const work = await makeTmpDir(ctx.root, 'commit');
  try {
    const tarPath = path.join(work, 'layer.tar');
    const diff = await containerDiff(view.id, ctx);
    const changes = opts.withoutMountSkeleton ? withoutMountSkeleton(diff, view.mountTargets) : diff;
    const { diffId, size } = await writeChangesTar(view, changes, tarPath, ctx.signal, opts);
    return await importLayerTar(store, { path: tarPath, diffId, size }, parentLayers, ctx);
  } finally {
    await removeTree(work).catch(cleanupFailed(ctx, `remove ${work}`));
  }
}
