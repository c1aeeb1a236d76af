import fs from 'node:fs';
import path from 'node:path';
import { lsetxattr, mknod } from '../sys/index.js';
import { unsafe } from './tarpath.js';

/**
 * OCI image-spec whiteouts (layer.md) and their overlayfs form.
 *
 *   `.wh.<name>`    deletes <name> from lower layers → a 0/0 character device named <name>
 *   `.wh..wh..opq`  hides everything lower layers have in its directory → `<ns>.overlay.opaque=y` on it
 *
 * 'overlay-root' uses the trusted.* namespace (needs CAP_SYS_ADMIN); 'overlay-user' the user.* one, which
 * overlayfs reads when mounted with `-o userxattr` (rootless, Linux >= 5.11). Whiteout devices need no
 * privilege: Linux >= 5.8 lets anyone mknod a 0/0 character device, also inside a user namespace (checked
 * on 6.18 as uid 65534, with and without `unshare -Ur`). Any kernel that would know the xattr form of a
 * whiteout (user.overlay.whiteout, 6.7+) also allows the device, so no fallback is needed.
 */
export type WhiteoutFormat = 'overlay-root' | 'overlay-user';

export const WHITEOUT_PREFIX = '.wh.';
export const OPAQUE_MARKER = '.wh..wh..opq';
export const AUFS_META_PREFIX = '.wh..wh.';

export type Whiteout =
  | { kind: 'opaque'; dir: string }
  | { kind: 'file'; target: string }
  /** other `.wh..wh.*` names are aufs bookkeeping: the entry itself is dropped (see dropAufsMeta) */
  | { kind: 'meta' };

/** Classify an entry by its normalized relative path; undefined for ordinary entries. */
export function whiteoutOf(rel: string, raw: string): Whiteout | undefined {
  const base = path.posix.basename(rel);
  if (!base.startsWith(WHITEOUT_PREFIX)) return undefined;
  const dir = path.posix.dirname(rel);
  const parent = dir === '.' ? '' : dir;
  if (base === OPAQUE_MARKER) return { kind: 'opaque', dir: parent };
  if (base.startsWith(AUFS_META_PREFIX)) return { kind: 'meta' };
  const name = base.slice(WHITEOUT_PREFIX.length);
  if (name === '' || name === '.' || name === '..') throw unsafe('whiteout', raw, 'names no file');
  return { kind: 'file', target: parent ? `${parent}/${name}` : name };
}

/**
 * Create the whiteout device at `abs`. Returns false when something already exists there: a file the same
 * layer also contains wins over its whiteout (whiteouts only apply to lower layers).
 */
export function makeWhiteout(abs: string): boolean {
  try {
    mknod(abs, fs.constants.S_IFCHR, 0, 0);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

export function opaqueXattr(format: WhiteoutFormat): string {
  return format === 'overlay-root' ? 'trusted.overlay.opaque' : 'user.overlay.opaque';
}

/** Mark the directory at `abs` opaque. */
export function markOpaque(abs: string, format: WhiteoutFormat): void {
  lsetxattr(abs, opaqueXattr(format), Buffer.from('y'));
}

/** overlayfs' own metadata: never taken from a layer, or a layer could redirect or fake copy-ups. */
export function isOverlayXattr(name: string): boolean {
  return name.startsWith('trusted.overlay.') || name.startsWith('user.overlay.');
}
