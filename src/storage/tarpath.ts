import path from 'node:path';
import { UnsafeArchiveError } from '../errors.js';

/**
 * The path of an entry relative to the layer root, or '' for the root itself. Leading '/' and './' are
 * stripped and the path normalized (so "a/../b" is "b", as docker's filepath.Clean makes it); whatever
 * still climbs out ("..", "../x") is rejected, as are NUL bytes and empty names.
 */
export function normalizeEntryPath(raw: string, what = 'path'): string {
  if (raw.length === 0) throw unsafe(what, raw, 'empty name');
  if (raw.includes('\0')) throw unsafe(what, raw, 'contains a nul byte');
  const clean = alreadyClean(raw);
  if (clean !== undefined) return clean;
  const rel = path.posix.normalize(raw.replace(/^\/+/, '') || '.').replace(/\/+$/, '');
  if (rel === '..' || rel.startsWith('../')) throw unsafe(what, raw, 'escapes the layer directory');
  return rel === '.' ? '' : rel;
}

/**
 * The common case without path.normalize (a character loop, slow in a CLI the JIT has not warmed up): `./a/b`,
 * `a/b/` and the like, with no empty, `.` or `..` component; anything else is undefined and normalized.
 */
function alreadyClean(raw: string): string | undefined {
  let p = raw.startsWith('./') ? raw.slice(2) : raw;
  if (p.endsWith('/')) p = p.slice(0, -1);
  if (p === '' || p === '.' || p === '..' || p.startsWith('/') || p.startsWith('./') || p.startsWith('../')) return undefined;
  if (p.endsWith('/') || p.endsWith('/.') || p.endsWith('/..') || p.includes('//') || p.includes('/./') || p.includes('/../')) return undefined;
  return p;
}

export function unsafe(what: string, raw: string, reason: string): UnsafeArchiveError {
  return new UnsafeArchiveError(`layer contains unsafe ${what} ${JSON.stringify(raw)}: ${reason}`);
}

/** Number of components below the root: '' → 0, 'a' → 1, 'a/b' → 2. */
export function depthOf(rel: string): number {
  if (rel === '') return 0;
  let n = 1;
  for (let i = 0; i < rel.length; i++) if (rel.charCodeAt(i) === 0x2f) n++;
  return n;
}
