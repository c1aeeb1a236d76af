import type { Writable } from 'node:stream';
import type { Context } from '../context.js';
import { NotFoundError, UsageError } from '../errors.js';
import { withLock } from '../state/lock.js';
import { saveArchive, type ArchiveFormat, type SaveItem } from '../image/archive/save.js';
import { ImageStore, findImage } from '../image/store/images.js';
import { formatReference, parseReference } from '../image/reference.js';
import type { ImageIndexFile } from '../image/store/types.js';

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

/**
 * As docker: `name:tag` saves that tag, a bare name every tag of its repository, an ID the image untagged.
 * Names of one image are merged into one entry.
 */
function selectImages(index: ImageIndexFile, names: string[]): SaveItem[] {
  const byId = new Map<string, SaveItem>();
  for (const name of names) {
    const img = findImage(index, name);
    if (!img) throw new NotFoundError(`No such image: ${name}`);
    const item = byId.get(img.id) ?? { image: img, tags: [] };
    byId.set(img.id, item);
    for (const t of tagsNamed(name, img.repoTags)) if (!item.tags.includes(t)) item.tags.push(t);
  }
  if (byId.size === 0) throw new UsageError('"save" requires at least 1 argument');
  return [...byId.values()];
}

function tagsNamed(name: string, own: string[]): string[] {
  let ref;
  try {
    ref = parseReference(name, { defaultTag: false });
  } catch {
    return [];
  }
  if (ref.digest) return [];
  if (ref.tag) return own.filter((t) => t === formatReference(ref));
  const repo = formatReference(ref);
  return own.filter((t) => t.slice(0, t.lastIndexOf(':')) === repo);
}
