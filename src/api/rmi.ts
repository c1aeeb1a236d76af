import type { Context } from '../context.js';
import { findList } from '../image/manifest-list/store.js';
import { ImageStore, findImage, referencedLayers } from '../image/store/images.js';
import { parseReference, formatReference, familiarName } from '../image/reference.js';
import { TsdockError, NotFoundError } from '../errors.js';
import { withLock } from '../state/lock.js';
import type { ImageIndexFile, ImageRecord } from '../image/store/types.js';
import { imageUsers, type ImageUser } from '../container/image-pins.js';

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
 * (refusing, without -f, when several repositories reference it). Images are pinned by their containers
 * (image-pins.ts): without -f their removal is refused with docker's conflict; with -f the image is untagged but
 * kept, dangling, while a container needs it (refused outright for a running one when named by ID).
 * Unreferenced layers are collected. Everything runs under layers.lock exclusive, taken before images.lock (the
 * order pulls and creates use), so no `create` can pin the image between the check and the collection.
 */
export async function removeImages(options: RmiOptions, ctx: Context): Promise<RmiResult> {
  const store = new ImageStore(ctx.root);
  const result: RmiResult = { items: [], errors: [] };
  await withLock(store.lockPath('layers'), 'exclusive', async () => {
    const users = imageUsers(ctx.root);
    for (const name of options.images) {
      try {
        const deleted = await store.update((index) => removeOne(index, name, { force: Boolean(options.force), users }, result));
        if (deleted) for (const chain of await collectLayersLocked(store)) result.items.push({ Deleted: chain });
      } catch (err) {
        result.errors.push(err as Error);
      }
    }
  });
  return result;
}

const short = (id: string) => id.replace(/^sha256:/, '').slice(0, 12);
const conflict = (message: string) => new TsdockError(`conflict: ${message}`, { exitCode: 1 });

function removeOne(index: ImageIndexFile, name: string, opts: { force: boolean; users: Map<string, ImageUser[]> }, result: RmiResult): boolean {
  const img = findImage(index, name);
  if (!img) return removeList(index, name, result);
  const users = opts.users.get(img.id) ?? [];
  const tag = tagNamed(img, name);
  if (tag && img.repoTags.length > 1) {
    img.repoTags = img.repoTags.filter((t) => t !== tag);
    result.items.push({ Untagged: familiarTag(tag) });
    return false;
  }
  if (tag) {
    // removing the last name would leave a container's image dangling: docker wants -f for that
    if (!opts.force && users.length) throw conflict(`unable to remove repository reference "${name}" (must force) - container ${short(users[0]!.id)} is using its referenced image ${short(img.id)}`);
  } else {
    const running = users.find((u) => u.running);
    if (running) throw conflict(`unable to delete ${short(img.id)} (cannot be forced) - image is being used by running container ${short(running.id)}`);
    if (!opts.force && new Set(img.repoTags.map((t) => t.slice(0, t.lastIndexOf(':')))).size > 1) {
      throw conflict(`unable to delete ${short(img.id)} (must be forced) - image is referenced in multiple repositories`);
    }
    if (!opts.force && users.length) throw conflict(`unable to delete ${short(img.id)} (must be forced) - image is being used by stopped container ${short(users[0]!.id)}`);
  }
  for (const t of img.repoTags) result.items.push({ Untagged: familiarTag(t) });
  for (const d of img.repoDigests) result.items.push({ Untagged: familiarDigest(d) });
  if (users.length) {
    // forced: untagged, but its config, manifest and layers stay while a container needs them (a dangling
    // <none>:<none> image that image prune collects once no container uses it)
    img.repoTags = [];
    img.repoDigests = [];
    return false;
  }
  delete index.images[img.id];
  result.items.push({ Deleted: img.id });
  return true;
}

/**
 * A name that is no image may be a local manifest list (podman's rmi removes those too): its record goes and
 * its blob with the collection after; the images in it stay.
 */
function removeList(index: ImageIndexFile, name: string, result: RmiResult): boolean {
  const list = findList(index, name);
  if (!list) throw new NotFoundError(`No such image: ${name}`);
  delete index.manifestLists![list.id];
  for (const n of list.names) result.items.push({ Untagged: familiarTag(n) });
  result.items.push({ Deleted: list.id });
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
 * Remove layers (and blobs) no image references; the caller holds layers.lock exclusive (so creates, which hold it
 * shared until their container pins its image, are waited for). The roots are the index's images, and so every
 * image a container pins: rmi and image prune never drop a pinned image from the index (forced: dangling).
 */
export async function collectLayersLocked(store: ImageStore): Promise<string[]> {
  const used = referencedLayers(await store.read());
  const removed: string[] = [];
  for (const chain of await store.layers.list()) {
    if (used.has(chain)) continue;
    await store.layers.remove(chain);
    removed.push(chain);
  }
  const keepBlobs = new Set<string>();
  const index = await store.read();
  for (const entry of Object.values(index.buildCache ?? {})) keepBlobs.add(entry.config);
  for (const list of Object.values(index.manifestLists ?? {})) keepBlobs.add(list.digest);
  for (const img of Object.values(index.images)) {
    keepBlobs.add(img.configDigest).add(img.manifestDigest);
    if (img.indexDigest) keepBlobs.add(img.indexDigest);
  }
  for (const blob of await store.blobs.list()) if (!keepBlobs.has(blob)) await store.blobs.remove(blob);
  return removed;
}
