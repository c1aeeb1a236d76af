import type { Writable } from 'node:stream';
import type { Context } from '../context.js';
import { withLock } from '../state/lock.js';
import { saveArchive, type ArchiveFormat } from '../image/archive/save.js';
import { selectImages } from '../image/archive/select.js';
import { ImageStore } from '../image/store/images.js';

export type { ArchiveFormat } from '../image/archive/save.js';

export interface SaveOptions {
  images: string[];
  format: ArchiveFormat;
  /** where the archive goes */
  out: Writable;
}

/** docker save: the images (blobs, docker-archive manifest.json and an OCI layout) as one tar stream. */
export async function saveImages(opts: SaveOptions, ctx: Context): Promise<void> {
  const store = new ImageStore(ctx.root);
  // held shared throughout: rmi and prune cannot collect a layer while it is read
  await withLock(store.lockPath('layers'), 'shared', async () => {
    // 1. each name to its image and the tags it stands for
    const items = selectImages(await store.read(), opts.images);
    // 2. the archive
    await saveArchive(store, items, opts.format, opts.out, ctx);
  });
}
