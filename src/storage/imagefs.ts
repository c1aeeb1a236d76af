import fs from 'node:fs';
import path from 'node:path';
import { TsdockError } from '../errors.js';
import { lgetxattr } from '../sys/index.js';
import { xattrFailureTolerated } from './xattr-policy.js';

/**
 * A read-only view of an image's merged file system, computed from its unpacked layers without mounting
 * anything, with overlayfs' rules:
 *
 * - the topmost layer holding a name decides what it is;
 * - a whiteout (a 0/0 character device, see whiteout.ts) hides that name in every lower layer;
 * - a directory merges with the same directory of lower layers, down to the first layer where the
 *   directory is opaque (`trusted.overlay.opaque=y` or `user.overlay.opaque=y`), a whiteout, or where
 *   the name is not a directory;
 * - symlinks are resolved inside the image: an absolute target starts at the image root, `..` never
 *   climbs above it, and more than 40 links in one lookup is ELOOP (the kernel's limit).
 *
 * Layers are given as their diff directories, top (newest) first.
 */
export interface ImageEntry {
  /** the layer diff directory holding the visible (topmost) copy */
  layerDir: string;
  /** the resolved path relative to the layer root: no leading slash, '' for the image root */
  relPath: string;
  /** lstat of the visible copy (a directory's attributes are those of its topmost copy, as in overlayfs) */
  stat: fs.Stats;
  /** directories only: every layer directory merged into this view, top first */
  mergedFrom?: string[];
}

export interface LookupOptions {
  /** follow a symlink in the last component too (default true); intermediate ones are always followed */
  followFinal?: boolean;
}

/** The kernel's MAXSYMLINKS. */
export const MAX_SYMLINKS = 40;

const OPAQUE_XATTRS = ['trusted.overlay.opaque', 'user.overlay.opaque'];

/** Too many symlinks while resolving a path in an image (a loop, most likely). */
export class ImagePathLoopError extends TsdockError {
  readonly code = 'ELOOP';
  constructor(readonly imagePath: string) {
    super(`too many levels of symbolic links resolving ${JSON.stringify(imagePath)} in the image`);
  }
}

/**
 * Resolve an absolute (or root-relative) path in the merged image. Undefined when it does not exist,
 * is hidden by a whiteout or an opaque directory, or a non-final component is not a directory.
 * Throws ImagePathLoopError after MAX_SYMLINKS links.
 */
export function lookupImagePath(layers: readonly string[], imagePath: string, opts: LookupOptions = {}): ImageEntry | undefined {
  const followFinal = opts.followFinal ?? true;
  const root = rootEntry(layers);
  if (!root) return undefined;
  // `stack` is the chain of resolved directories from the root: never contains a symlink
  const stack: ImageEntry[] = [root];
  let pending = components(imagePath);
  let links = 0;
  while (pending.length > 0) {
    const name = pending.shift()!;
    if (name === '..') {
      if (stack.length > 1) stack.pop();
      continue;
    }
    const dir = stack[stack.length - 1]!;
    if (!dir.stat.isDirectory()) return undefined; // ENOTDIR
    const child = lookupChild(dir, name);
    if (!child) return undefined;
    if (child.stat.isSymbolicLink() && (pending.length > 0 || followFinal)) {
      if (++links > MAX_SYMLINKS) throw new ImagePathLoopError(imagePath);
      const target = fs.readlinkSync(path.join(child.layerDir, child.relPath));
      if (target === '') return undefined; // ENOENT, as the kernel does for an empty target
      if (target.startsWith('/')) stack.length = 1;
      pending = [...components(target), ...pending];
      continue;
    }
    stack.push(child);
  }
  return stack[stack.length - 1];
}

/**
 * Read a regular file of the image (symlinks followed inside the image), e.g. /etc/passwd for `run -u`.
 * Undefined when the path does not exist or is not a regular file; a TsdockError when it is larger
 * than `maxBytes`.
 */
export function readImageFile(layers: readonly string[], imagePath: string, maxBytes: number): Buffer | undefined {
  const entry = lookupImagePath(layers, imagePath);
  if (!entry || !entry.stat.isFile()) return undefined;
  const abs = path.join(entry.layerDir, entry.relPath);
  let fd: number;
  try {
    fd = fs.openSync(abs, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ELOOP') return undefined; // the layer changed under us: gone
    throw err;
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) return undefined;
    if (st.size > maxBytes) throw new TsdockError(`${imagePath} in the image is larger than ${maxBytes} bytes (${st.size})`);
    const buf = Buffer.alloc(st.size);
    let off = 0;
    while (off < buf.length) {
      const n = fs.readSync(fd, buf, off, buf.length - off, off);
      if (n === 0) break;
      off += n;
    }
    return buf.subarray(0, off);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * The merged listing of a directory of the image (symlinks followed to reach it), whiteouts and hidden
 * lower entries removed, sorted by name. Undefined when the path does not resolve to a directory.
 */
export function listImageDir(layers: readonly string[], imagePath: string): Map<string, ImageEntry> | undefined {
  const dir = lookupImagePath(layers, imagePath);
  if (!dir || !dir.stat.isDirectory()) return undefined;
  return listEntryDir(dir);
}

/** The merged listing of a directory entry from lookupImagePath or a previous listing (for tree walks). */
export function listEntryDir(dir: ImageEntry): Map<string, ImageEntry> {
  const out = new Map<string, ImageEntry>();
  if (!dir.stat.isDirectory()) return out;
  const hidden = new Set<string>();
  const chain = dir.mergedFrom ?? [dir.layerDir];
  chain.forEach((layer, i) => {
    let names: string[];
    try {
      names = fs.readdirSync(path.join(layer, dir.relPath));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    for (const name of names.sort()) {
      if (out.has(name) || hidden.has(name)) continue;
      // first seen in this layer, so no upper layer has the name (not even a whiteout, which readdir
      // would have listed): resolving from here down is the same as resolving from the top
      const child = lookupChild({ ...dir, mergedFrom: chain.slice(i) }, name);
      if (child) out.set(name, child);
      else hidden.add(name);
    }
  });
  return new Map([...out].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** True for an overlayfs whiteout: a character device with device number 0/0. */
export function isWhiteoutStat(st: fs.Stats): boolean {
  return st.isCharacterDevice() && st.rdev === 0;
}

/** Opaque directories per layer directory, from layer.json (registerOpaqueDirs), consulted before any xattr. */
const knownOpaque = new Map<string, Set<string>>();

/** Tell the merged view which directories `layerDir` makes opaque, so it need not read xattrs (nor load koffi). */
export function registerOpaqueDirs(layerDir: string, relPaths: readonly string[]): void {
  knownOpaque.set(path.resolve(layerDir), new Set(relPaths.map((p) => p.replace(/^\/+|\/+$/g, ''))));
}

/** Whether `relPath` in `layer` is opaque; never asks when nothing lies below (`last`). */
function opaqueIn(layer: string, relPath: string, last: boolean): boolean {
  if (last) return false;
  const known = knownOpaque.get(path.resolve(layer));
  if (known) return known.has(relPath);
  return isOpaqueDir(relPath === '' ? layer : path.join(layer, relPath));
}

/** True when the directory at `abs` carries an overlay opaque marker (either namespace). */
export function isOpaqueDir(abs: string): boolean {
  for (const name of OPAQUE_XATTRS) {
    let value: Buffer | undefined;
    try {
      value = lgetxattr(abs, name);
    } catch (err) {
      // no xattr support, or trusted.* refused to an unprivileged reader: not marked in that namespace
      if (xattrFailureTolerated(err, 'read')) continue;
      throw err;
    }
    if (value?.toString() === 'y') return true;
  }
  return false;
}

function rootEntry(layers: readonly string[]): ImageEntry | undefined {
  if (layers.length === 0) return undefined;
  const mergedFrom: string[] = [];
  let stat: fs.Stats | undefined;
  for (const [i, layer] of layers.entries()) {
    const st = lstatOrUndefined(layer);
    if (!st?.isDirectory()) throw new TsdockError(`layer directory ${layer} is missing`);
    stat ??= st;
    mergedFrom.push(layer);
    if (opaqueIn(layer, '', i === layers.length - 1)) break;
  }
  return { layerDir: layers[0]!, relPath: '', stat: stat!, mergedFrom };
}

/** Look `name` up in a merged directory: the topmost copy, and for a directory its merge chain. */
function lookupChild(dir: ImageEntry, name: string): ImageEntry | undefined {
  const relPath = dir.relPath === '' ? name : `${dir.relPath}/${name}`;
  let first: ImageEntry | undefined;
  const mergedFrom: string[] = [];
  const chain = dir.mergedFrom ?? [dir.layerDir];
  for (const [i, layer] of chain.entries()) {
    const abs = path.join(layer, relPath);
    const st = lstatOrUndefined(abs);
    if (!st) continue;
    if (isWhiteoutStat(st)) break; // hides this name in every lower layer
    if (!first) {
      first = { layerDir: layer, relPath, stat: st };
      if (!st.isDirectory()) break;
    } else if (!st.isDirectory()) break; // a lower non-directory under an upper directory: hidden
    mergedFrom.push(layer);
    if (opaqueIn(layer, relPath, i === chain.length - 1)) break;
  }
  if (first?.stat.isDirectory()) first.mergedFrom = mergedFrom;
  return first;
}

function components(p: string): string[] {
  return p.split('/').filter((c) => c !== '' && c !== '.');
}

function lstatOrUndefined(abs: string): fs.Stats | undefined {
  try {
    return fs.lstatSync(abs);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
}
