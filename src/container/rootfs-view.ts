import fs from 'node:fs';
import path from 'node:path';
import { NotFoundError, TsdockError } from '../errors.js';
import { readJsonSync } from '../state/atomic.js';
import { ImageStore } from '../image/store/images.js';
import type { ImageRecord } from '../image/store/types.js';
import { isOpaqueDir, isWhiteoutStat, listEntryDir, lookupImagePath, registerOpaqueDirs, MAX_SYMLINKS, ImagePathLoopError, type ImageEntry } from '../storage/imagefs.js';
import { lsetxattr } from '../sys/index.js';
import { loadRecord } from './state.js';
import { resolveContainer } from './lookup.js';
import type { ContainerRecord } from './record.js';

/**
 * A container's file system as files, without mounting anything: its upper directory (overlay: the
 * container's writes, whiteouts as 0/0 character devices, opaque directories marked with xattrs; vfs: a whole
 * private copy) on top of its image's layers. Reads resolve symlinks inside this view only (imagefs.ts): an
 * absolute target starts at the container's root and `..` never climbs above it.
 */
export interface ContainerView {
  id: string;
  record: ContainerRecord;
  upper: string;
  driver: 'overlay' | 'vfs';
  /** the image's layer diff directories, top first (empty for vfs: upper holds everything) */
  imageLayers: string[];
  /** what a reader sees: upper first */
  layers: string[];
  image?: ImageRecord;
  /** mount destinations of the spec: targets created for bind mounts, not the container's own changes */
  mountTargets: Set<string>;
}

export async function openContainerView(root: string, ref: string): Promise<ContainerView> {
  const id = resolveContainer(root, ref);
  const record = loadRecord(root, id);
  if (!record) throw new NotFoundError(`No such container: ${ref}`);
  const dir = path.join(root, 'containers', id);
  const upper = path.join(dir, 'upper');
  const driver = record.Driver === 'vfs' ? 'vfs' : 'overlay';
  const store = new ImageStore(root);
  let image: ImageRecord | undefined;
  try {
    image = await store.resolve(record.Image);
  } catch {
    image = undefined;
  }
  const imageLayers: string[] = [];
  if (image) {
    for (const l of [...image.layers].reverse()) {
      const d = store.layers.diffDir(l.chainId);
      const dirs = (await store.layers.meta(l.chainId))?.opaqueDirs;
      if (dirs) registerOpaqueDirs(d, dirs);
      imageLayers.push(d);
    }
  } else if (driver === 'overlay') {
    throw new TsdockError(`the image of container ${id.slice(0, 12)} (${record.Image}) is no longer in the store`);
  }
  const mountTargets = new Set<string>();
  try {
    const spec = readJsonSync<{ mounts?: Array<{ destination: string }> }>(path.join(dir, 'config.json'));
    for (const m of spec?.mounts ?? []) mountTargets.add(path.posix.normalize(`/${m.destination}`));
  } catch {
    // no spec: nothing to exclude
  }
  return { id, record, upper, driver, imageLayers: driver === 'vfs' ? [] : imageLayers, layers: driver === 'vfs' ? [upper] : [upper, ...imageLayers], image, mountTargets };
}

/** The image-only layers a path is compared with for `diff` (vfs: the image itself). */
export async function imageLayerDirs(root: string, image: ImageRecord | undefined): Promise<string[]> {
  if (!image) return [];
  const store = new ImageStore(root);
  const out: string[] = [];
  for (const l of [...image.layers].reverse()) {
    const d = store.layers.diffDir(l.chainId);
    const dirs = (await store.layers.meta(l.chainId))?.opaqueDirs;
    if (dirs) registerOpaqueDirs(d, dirs);
    out.push(d);
  }
  return out;
}

export function lookup(view: ContainerView, p: string, followFinal = true): ImageEntry | undefined {
  return lookupImagePath(view.layers, p, { followFinal });
}

export function absOf(e: ImageEntry): string {
  return e.relPath === '' ? e.layerDir : path.join(e.layerDir, e.relPath);
}

export { listEntryDir, isWhiteoutStat, isOpaqueDir };

/**
 * Resolve `p` for writing: every existing component resolved in the merged view (symlinks followed inside
 * it, `..` clamped at the root), the final one too when it is a symlink. Missing components (the final one, or
 * intermediate ones when `createParents`) are kept as names. Returns the resolved path relative to the root
 * (components are real directories of the view, never symlinks) and the entry at it when it exists.
 */
export function resolveForWrite(view: ContainerView, p: string, createParents: boolean): { rel: string[]; entry?: ImageEntry } {
  const root = lookupImagePath(view.layers, '/');
  if (!root) throw new TsdockError('the container has no root file system');
  const stack: ImageEntry[] = [root];
  const names: string[] = [];
  let missing: string[] | undefined;
  let pending = p.split('/').filter((c) => c !== '' && c !== '.');
  let links = 0;
  while (pending.length > 0) {
    const name = pending.shift()!;
    if (missing) {
      if (name === '..') {
        if (missing.length > 0) missing.pop();
        else if (names.length > 0) {
          names.pop();
          stack.pop();
          missing = undefined;
        }
        continue;
      }
      missing.push(name);
      continue;
    }
    if (name === '..') {
      if (stack.length > 1) {
        stack.pop();
        names.pop();
      }
      continue;
    }
    const dir = stack[stack.length - 1]!;
    if (!dir.stat.isDirectory()) throw new TsdockError(`${p}: not a directory in the container`);
    const child = lookupImagePath(view.layers, `/${[...names, name].join('/')}`, { followFinal: false });
    if (!child) {
      if (pending.length > 0 && !createParents) throw new NotFoundError(`Could not find the file ${p} in container ${view.id.slice(0, 12)}`);
      missing = [name];
      continue;
    }
    if (child.stat.isSymbolicLink()) {
      if (++links > MAX_SYMLINKS) throw new ImagePathLoopError(p);
      const target = fs.readlinkSync(absOf(child));
      if (target.startsWith('/')) {
        stack.length = 1;
        names.length = 0;
      }
      pending = [...target.split('/').filter((c) => c !== '' && c !== '.'), ...pending];
      continue;
    }
    stack.push(child);
    names.push(name);
  }
  if (missing) return { rel: [...names, ...missing] };
  return { rel: names, entry: stack.length > 1 ? stack[stack.length - 1] : root };
}

/**
 * Make sure directories `rel` exist in the upper directory (copying up the view's directories: mode and
 * owner; creating missing ones 0755 root), never following a symlink: each component is lstat'ed and must
 * be a real directory. Returns the absolute path in upper. `opaqueXattr` marks a directory that replaces a
 * whiteout.
 */
export function ensureUpperDirs(view: ContainerView, rel: string[], opaqueXattr: string): string {
  let abs = view.upper;
  const sofar: string[] = [];
  for (const name of rel) {
    if (name === '' || name === '.' || name === '..' || name.includes('/')) throw new TsdockError(`invalid path component ${JSON.stringify(name)}`);
    sofar.push(name);
    const next = path.join(abs, name);
    const st = fs.lstatSync(next, { throwIfNoEntry: false });
    if (st?.isDirectory()) {
      abs = next;
      continue;
    }
    let replacedWhiteout = false;
    if (st) {
      if (!isWhiteoutStat(st)) throw new TsdockError(`/${sofar.join('/')} in the container is not a directory`);
      fs.unlinkSync(next);
      replacedWhiteout = true;
    }
    const merged = replacedWhiteout ? undefined : lookupImagePath(view.layers, `/${sofar.join('/')}`, { followFinal: false });
    if (merged && !merged.stat.isDirectory()) throw new TsdockError(`/${sofar.join('/')} in the container is not a directory`);
    fs.mkdirSync(next, { mode: merged ? merged.stat.mode & 0o7777 : 0o755 });
    if (merged) {
      fs.lchownSync(next, merged.stat.uid, merged.stat.gid);
      fs.chmodSync(next, merged.stat.mode & 0o7777);
    } else if (replacedWhiteout && view.driver === 'overlay') {
      lsetxattr(next, opaqueXattr, Buffer.from('y'), 0);
    }
    abs = next;
  }
  return abs;
}
