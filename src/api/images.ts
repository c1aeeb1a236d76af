import type { Context } from './context.js';
import { ImageStore } from '../image/store/images.js';
import type { ImageRecord } from '../image/store/types.js';
import { familiarName, parseReference } from '../image/reference.js';
import { UsageError } from '../errors.js';

export interface ImagesOptions {
  /** REPOSITORY[:TAG] to match (docker's positional argument) */
  reference?: string;
  /** docker-style filters: dangling=true|false, reference=PATTERN, before=IMAGE, since=IMAGE, label=K[=V] */
  filters?: string[];
}

/** One row of `images`: a tag of an image, or the image alone when it has none. */
export interface ImageRow {
  id: string;
  repository: string;
  tag: string;
  digest: string;
  created?: string;
  size: number;
  image: ImageRecord;
}

export async function listImages(options: ImagesOptions, ctx: Context): Promise<ImageRow[]> {
  const store = new ImageStore(ctx.root);
  const images = (await store.list()).sort((a, b) => (b.created ?? '').localeCompare(a.created ?? '') || a.id.localeCompare(b.id));
  const rows: ImageRow[] = [];
  for (const img of images) {
    const digestFor = (repo: string) => img.repoDigests.find((d) => d.startsWith(`${repo}@`))?.split('@')[1] ?? '<none>';
    if (img.repoTags.length === 0) {
      const d = img.repoDigests[0];
      rows.push({ id: img.id, repository: d ? familiar(d.split('@')[0]!) : '<none>', tag: '<none>', digest: d ? d.split('@')[1]! : '<none>', created: img.created, size: img.size, image: img });
      continue;
    }
    for (const t of img.repoTags) {
      const i = t.lastIndexOf(':');
      const repo = t.slice(0, i);
      rows.push({ id: img.id, repository: familiar(repo), tag: t.slice(i + 1), digest: digestFor(repo), created: img.created, size: img.size, image: img });
    }
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
