import type { Context } from './context.js';
import { ImageStore, findImage, referencedLayers } from '../image/store/images.js';
import { parseReference, formatReference, familiarName } from '../image/reference.js';
import { TsdockError, NotFoundError } from '../errors.js';
import { withLock } from '../state/lock.js';
import type { ImageIndexFile, ImageRecord } from '../image/store/types.js';

export interface RmiOptions {
  images: string[];
  force?: boolean;
}

export interface RmiResult {
  /** docker's report lines: { Untagged: 'alpine:latest' } or { Deleted: 'sha256:...' } */
  items: Array<{ Untagged: string } | { Deleted: string }>;
  errors: Error[];
}

/**
 * Docker's rmi: a name removes that tag, and the image once no tag is left; an ID removes the image
 * (refusing, without -f, when several repositories reference it). Unreferenced layers are collected.
 */
export async function removeImages(options: RmiOptions, ctx: Context): Promise<RmiResult> {
  const store = new ImageStore(ctx.root);
  const result: RmiResult = { items: [], errors: [] };
  for (const name of options.images) {
    try {
      const deleted = await store.update((index) => removeOne(index, name, Boolean(options.force), result));
      if (deleted) for (const chain of await collectLayers(store)) result.items.push({ Deleted: chain });
    } catch (err) {
      result.errors.push(err as Error);
    }
  }
  return result;
}

function removeOne(index: ImageIndexFile, name: string, force: boolean, result: RmiResult): boolean {
  const img = findImage(index, name);
  if (!img) throw new NotFoundError(`No such image: ${name}`);
  const tag = tagNamed(img, name);
  if (tag && img.repoTags.length > 1) {
    img.repoTags = img.repoTags.filter((t) => t !== tag);
    result.items.push({ Untagged: familiarTag(tag) });
    return false;
  }
  if (!tag && !force && new Set(img.repoTags.map((t) => t.slice(0, t.lastIndexOf(':')))).size > 1) {
    throw new TsdockError(`conflict: unable to delete ${img.id.slice(7, 19)} (must be forced) - image is referenced in multiple repositories`, { exitCode: 1 });
  }
  for (const t of img.repoTags) result.items.push({ Untagged: familiarTag(t) });
  for (const d of img.repoDigests) result.items.push({ Untagged: familiarDigest(d) });
  delete index.images[img.id];
  result.items.push({ Deleted: img.id });
  return true;
}

/** The full tag `name` refers to, when it names the image by tag (not by ID or digest). */
function tagNamed(img: ImageRecord, name: string): string | undefined {
  try {
    const ref = parseReference(name);
    if (ref.digest) return undefined;
    const full = formatReference(ref);
    return img.repoTags.includes(full) ? full : undefined;
  } catch {
    return undefined;
  }
}

export function familiarTag(full: string): string {
  const i = full.lastIndexOf(':');
  return `${familiarRepo(full.slice(0, i))}:${full.slice(i + 1)}`;
}

function familiarDigest(full: string): string {
  const [repo, digest] = full.split('@');
  return `${familiarRepo(repo!)}@${digest}`;
}

function familiarRepo(repo: string): string {
  const slash = repo.indexOf('/');
  return familiarName({ registry: repo.slice(0, slash), repository: repo.slice(slash + 1) });
}

/**
 * Remove layers no image references. Holds the layer lock exclusively, so it waits for running pulls,
 * which hold it shared until their image is recorded.
 */
export async function collectLayers(store: ImageStore): Promise<string[]> {
  return withLock(store.lockPath('layers'), 'exclusive', async () => {
    const used = referencedLayers(await store.read());
    const removed: string[] = [];
    for (const chain of await store.layers.list()) {
      if (used.has(chain)) continue;
      await store.layers.remove(chain);
      removed.push(chain);
    }
    const keepBlobs = new Set<string>();
    for (const img of Object.values((await store.read()).images)) {
      keepBlobs.add(img.configDigest).add(img.manifestDigest);
      if (img.indexDigest) keepBlobs.add(img.indexDigest);
    }
    for (const blob of await store.blobs.list()) if (!keepBlobs.has(blob)) await store.blobs.remove(blob);
    return removed;
  });
}
