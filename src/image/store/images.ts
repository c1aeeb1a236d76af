import path from 'node:path';
import { readJson, writeJsonAtomic } from '../../state/atomic.js';
import { withLock } from '../../state/lock.js';
import { NotFoundError, UsageError } from '../../errors.js';
import { BlobStore } from './blobs.js';
import { indexChangeEvents } from '../events.js';
import { LayerStore } from '../../storage/layers.js';
import { formatReference, parseReference, type ImageReference } from '../reference.js';
import type { ImageIndexFile, ImageRecord } from './types.js';

const ID_PREFIX = /^(?:sha256:)?([a-f0-9]{1,64})$/;

/**
 * The image index: images.json, rewritten atomically under an exclusive flock, so concurrent pulls,
 * tags and removals serialize on the index while downloads run in parallel.
 */
export class ImageStore {
  readonly blobs: BlobStore;
  readonly layers: LayerStore;
  readonly indexPath: string;
  readonly lockDir: string;

  constructor(readonly root: string) {
    this.blobs = new BlobStore(path.join(root, 'blobs'));
    this.layers = new LayerStore(root);
    this.indexPath = path.join(root, 'images.json');
    this.lockDir = path.join(root, 'locks');
  }

  lockPath(name: 'images' | 'layers'): string {
    return path.join(this.lockDir, `${name}.lock`);
  }

  async read(): Promise<ImageIndexFile> {
    return (await readJson<ImageIndexFile>(this.indexPath)) ?? { version: 1, images: {} };
  }

  /**
   * Read-modify-write of the index under its lock. An index `fn` left as it was is not written again (a pull of an
   * image already there as it is on the registry changes nothing, and the fsync'd write was most of its time).
   * The tags and images it added or removed are events.
   */
  async update<T>(fn: (index: ImageIndexFile) => T | Promise<T>): Promise<T> {
    return withLock(this.lockPath('images'), 'exclusive', async () => {
      const index = await this.read();
      const before = JSON.stringify(index);
      const changed = indexChangeEvents(this.root, index);
      const result = await fn(index);
      if (JSON.stringify(index) !== before) {
        await writeJsonAtomic(this.indexPath, index);
        changed(index);
      }
      return result;
    });
  }

  async list(): Promise<ImageRecord[]> {
    return Object.values((await this.read()).images);
  }

  /** Docker's lookup order: a reference (name[:tag] or name@digest), then an ID or unique ID prefix. */
  async resolve(nameOrId: string): Promise<ImageRecord> {
    const found = findImage(await this.read(), nameOrId);
    if (!found) throw new NotFoundError(`No such image: ${nameOrId}`);
    return found;
  }
}

export function findImage(index: ImageIndexFile, nameOrId: string): ImageRecord | undefined {
  const images = Object.values(index.images);
  const full = /^sha256:[a-f0-9]{64}$/.exec(nameOrId);
  if (full) return index.images[nameOrId];
  let ref: ImageReference | undefined;
  try {
    ref = parseReference(nameOrId);
  } catch {
    ref = undefined;
  }
  if (ref) {
    const byRef = images.find((img) => matchesReference(img, ref!));
    if (byRef) return byRef;
  }
  const m = ID_PREFIX.exec(nameOrId);
  if (m) {
    const hits = images.filter((img) => img.id.slice('sha256:'.length).startsWith(m[1]!));
    if (hits.length > 1) throw new UsageError(`short id "${nameOrId}" is ambiguous: it matches ${hits.length} images`);
    return hits[0];
  }
  return undefined;
}

export function matchesReference(img: ImageRecord, ref: ImageReference): boolean {
  if (ref.digest) {
    const name = `${ref.registry}/${ref.repository}@${ref.digest}`;
    return img.repoDigests.includes(name);
  }
  return img.repoTags.includes(formatReference(ref));
}

/** Remove `tag` from whichever image holds it (a tag names one image at a time). */
export function detachTag(index: ImageIndexFile, tag: string): void {
  for (const img of Object.values(index.images)) img.repoTags = img.repoTags.filter((t) => t !== tag);
}

/** Chain IDs still referenced by some image. */
export function referencedLayers(index: ImageIndexFile): Set<string> {
  const used = new Set<string>();
  for (const img of Object.values(index.images)) for (const l of img.layers) used.add(l.chainId);
  for (const entry of Object.values(index.buildCache ?? {})) for (const l of entry.layers) used.add(l.chainId);
  return used;
}

/** repository part of a full reference (for RepoDigests), e.g. docker.io/library/alpine */
export function repoName(ref: ImageReference): string {
  return `${ref.registry}/${ref.repository}`;
}
