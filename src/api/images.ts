import type { Context } from '../context.js';
import { ImageStore } from '../image/store/images.js';
import type { ImageRecord } from '../image/store/types.js';
import { familiarName, parseReference } from '../image/reference.js';
import { UsageError } from '../errors.js';

export interface ImagesOptions {
  /** REPOSITORY[:TAG] to match (docker's positional argument) */
  reference?: string;
  /** docker-style filters: dangling=true|false, reference=PATTERN, before=IMAGE, since=IMAGE, label=K[=V] */
  filters?: string[];
  /** `-a`: also the intermediate images of builds */
  all?: boolean;
}

/** One row of `images`: a tag of an image, or the image alone when it has none. */
export interface ImageRow {
  id: string;
  repository: string;
  tag: string;
  /** the first digest of this repository, or '<none>' */
  digest: string;
  /** every digest the image is known by in this repository (docker --digests shows one row each) */
  digests: string[];
  created?: string;
  size: number;
  image: ImageRecord;
}

export async function listImages(options: ImagesOptions, ctx: Context): Promise<ImageRow[]> {
  const store = new ImageStore(ctx.root);
  const images = (await store.list()).sort((a, b) => (b.created ?? '').localeCompare(a.created ?? '') || a.id.localeCompare(b.id));
  const rows: ImageRow[] = [];
  for (const img of images) {
    if (img.intermediate && !options.all) continue;
    const digestsFor = (repo: string) => img.repoDigests.filter((d) => d.startsWith(`${repo}@`)).map((d) => d.split('@')[1]!);
    const row = (repo: string | undefined, tag: string): ImageRow => {
      const digests = repo ? digestsFor(repo) : [];
      return { id: img.id, repository: repo ? familiar(repo) : '<none>', tag, digest: digests[0] ?? '<none>', digests, created: img.created, size: img.size, image: img };
    };
    if (img.repoTags.length === 0) {
      rows.push(row(img.repoDigests[0]?.split('@')[0], '<none>'));
      continue;
    }
    for (const t of img.repoTags) rows.push(row(t.slice(0, t.lastIndexOf(':')), t.slice(t.lastIndexOf(':') + 1)));
  }
  const filters = parseFilters(options.filters ?? []);
  const byId = new Map(images.map((i) => [i.id, i]));
  const resolveTime = (v: string) => {
    const hit = rows.find((r) => r.id.includes(v) || `${r.repository}:${r.tag}` === v || r.repository === v)?.image ?? byId.get(v);
    if (!hit) throw new UsageError(`no such image: ${v}`);
    return hit.created ?? '';
  };
  return rows.filter((r) => {
    if (options.reference && !matchRepoTag(r, options.reference)) return false;
    for (const [key, value] of filters) {
      if (key === 'dangling' && (value === 'true') !== (r.image.repoTags.length === 0)) return false;
      if (key === 'reference' && !matchRepoTag(r, value)) return false;
      if (key === 'before' && !((r.created ?? '') < resolveTime(value))) return false;
      if (key === 'since' && !((r.created ?? '') > resolveTime(value))) return false;
    }
    return true;
  });
}

function familiar(fullRepo: string): string {
  const slash = fullRepo.indexOf('/');
  return familiarName({ registry: fullRepo.slice(0, slash), repository: fullRepo.slice(slash + 1) });
}

function parseFilters(filters: string[]): Array<[string, string]> {
  return filters.map((f) => {
    const i = f.indexOf('=');
    const key = i < 0 ? f : f.slice(0, i);
    const value = i < 0 ? '' : f.slice(i + 1);
    if (!['dangling', 'reference', 'before', 'since', 'label'].includes(key)) throw new UsageError(`invalid filter '${key}'`);
    if (key === 'dangling' && value !== 'true' && value !== 'false') throw new UsageError(`invalid filter 'dangling=${value}'`);
    return [key, value];
  });
}

/** docker matches `images NAME[:TAG]` and reference= filters as shell-style globs on the familiar name. */
function matchRepoTag(row: ImageRow, pattern: string): boolean {
  const hasTag = /:[^/]*$/.test(pattern);
  const subject = hasTag ? `${row.repository}:${row.tag}` : row.repository;
  if (glob(pattern).test(subject)) return true;
  try {
    const ref = parseReference(pattern);
    const full = `${familiarName(ref)}`;
    return hasTag ? `${full}:${ref.tag}` === `${row.repository}:${row.tag}` : full === row.repository;
  } catch {
    return false;
  }
}

function glob(pattern: string): RegExp {
  const re = pattern.replace(/[.+^${}()|\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]');
  return new RegExp(`^${re}$`);
}
