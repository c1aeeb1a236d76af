/** Which images, under which names, a `save IMAGE...` puts in its archive (pure, over the image index). */
import { NotFoundError, UsageError } from '../../errors.js';
import { formatReference, parseReference } from '../reference.js';
import { findImage } from '../store/images.js';
import type { ImageIndexFile } from '../store/types.js';
import type { SaveItem } from './save.js';

/**
 * As docker: `name:tag` saves that tag, a bare name every tag of its repository, an ID the image untagged.
 * Names of one image are merged into one entry.
 */
export function selectImages(index: ImageIndexFile, names: string[]): SaveItem[] {
  const byId = new Map<string, SaveItem>();
  for (const name of names) {
    const repo = bareRepository(name);
    const inRepo = repo ? Object.values(index.images).filter((i) => i.repoTags.some((t) => repositoryOf(t) === repo)) : [];
    const found = inRepo.length ? inRepo : [findImage(index, name)];
    for (const img of found) {
      if (!img) throw new NotFoundError(`No such image: ${name}`);
      const item = byId.get(img.id) ?? { image: img, tags: [] };
      byId.set(img.id, item);
      for (const t of tagsNamed(name, img.repoTags)) if (!item.tags.includes(t)) item.tags.push(t);
    }
  }
  if (byId.size === 0) throw new UsageError('"save" requires at least 1 argument');
  return [...byId.values()];
}

function tagsNamed(name: string, own: string[]): string[] {
  const repo = bareRepository(name);
  if (repo) return own.filter((t) => repositoryOf(t) === repo);
  let ref;
  try {
    ref = parseReference(name);
  } catch {
    return [];
  }
  return ref.digest ? [] : own.filter((t) => t === formatReference(ref));
}

/** the full repository a name without tag or digest stands for (`app` → docker.io/library/app) */
function bareRepository(name: string): string | undefined {
  try {
    const ref = parseReference(name, { defaultTag: false });
    return ref.tag === undefined && ref.digest === undefined ? formatReference(ref) : undefined;
  } catch {
    return undefined;
  }
}

function repositoryOf(tag: string): string {
  return tag.slice(0, tag.lastIndexOf(':'));
}
