import fs from 'node:fs';
import type { Writable } from 'node:stream';
import { closeQuiet, isOpaqueFd, lstatAt, openDirAt, readDirFd } from '../storage/fdwalk.js';
import { tarVisitor, walkChild } from '../storage/fdtree.js';
import { isWhiteoutStat, listImageDir, lookupImagePath } from '../storage/imagefs.js';
import { walkMergedLayers } from '../storage/merged-fdwalk.js';
import { TarWriter } from '../storage/tarwriter.js';
import type { ContainerView } from './rootfs-view.js';

/**
 * A container's own changes (docker diff, commit) and its whole file system (export), read from its upper
 * directory and image layers by directory fds only (storage/fdwalk.ts): a process in the container that swaps a
 * directory for a symlink mid-walk makes us see a symlink, never read what it points to.
 */
export type ChangeKind = 'C' | 'A' | 'D';
export interface Change {
  kind: ChangeKind;
  path: string;
}

/** docker sorts by path component-wise ("/a/b" before "/a-b") */
export function cmpPath(a: string, b: string): number {
  const x = a.split('/');
  const y = b.split('/');
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! < y[i]! ? -1 : 1;
  return x.length - y.length;
}

/** The image's own files are ours (the container never writes its layers): looked up by path. */
function inImage(image: string[], p: string): fs.Stats | undefined {
  if (image.length === 0) return undefined;
  try {
    return lookupImagePath(image, p, { followFinal: false })?.stat;
  } catch {
    return undefined;
  }
}

const openRoot = (dir: string) => fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY | fs.constants.O_NOFOLLOW);

/** Each child of an open directory: its lstat and, for a directory, an fd (closed after `fn`). */
function eachChild(dirFd: number, fn: (name: string, st: fs.Stats, childFd: number | undefined) => void): void {
  for (const name of readDirFd(dirFd)) {
    const st = lstatAt(dirFd, name);
    if (!st) continue;
    let fd: number | undefined;
    if (st.isDirectory()) {
      try {
        fd = openDirAt(dirFd, name);
      } catch {
        fd = undefined; // swapped for a non-directory: report it by its lstat, do not descend
      }
    }
    try {
      fn(name, st, fd);
    } finally {
      closeQuiet(fd);
    }
  }
}

/** Overlay: walk the upper directory. A 0/0 char device is a deletion; a directory of the image present in upper is a change. */
export function upperChanges(view: ContainerView, image: string[]): Change[] {
  const out: Change[] = [];
  const walk = (dirFd: number, p: string): boolean => {
    let reported = false;
    eachChild(dirFd, (name, st, fd) => {
      const cp = `${p}/${name}`;
      if (isWhiteoutStat(st)) {
        if (inImage(image, cp)) {
          out.push({ kind: 'D', path: cp });
          reported = true;
        }
        return;
      }
      const lower = inImage(image, cp);
      const mountTarget = view.mountTargets.has(cp);
      if (fd !== undefined) {
        const childReported = walk(fd, cp);
        if (!lower || !lower.isDirectory()) {
          if (mountTarget && !lower && !childReported && readDirFd(fd).length === 0) return;
          out.push({ kind: 'A', path: cp });
          reported = true;
          return;
        }
        const meta = (lower.mode & 0o7777) !== (st.mode & 0o7777) || lower.uid !== st.uid || lower.gid !== st.gid;
        if (childReported || meta || isOpaqueFd(fd)) {
          out.push({ kind: 'C', path: cp });
          reported = true;
        }
        return;
      }
      if (mountTarget && st.isFile() && st.size === 0) return;
      out.push({ kind: lower ? 'C' : 'A', path: cp });
      reported = true;
    });
    return reported;
  };
  const fd = openRoot(view.upper);
  try {
    walk(fd, '');
  } finally {
    closeQuiet(fd);
  }
  return out;
}

/** vfs (best effort): compare the private copy with the image by type, size, mode, owner and mtime. */
export function vfsChanges(view: ContainerView, image: string[]): Change[] {
  const out: Change[] = [];
  const seen = new Set<string>();
  const walk = (dirFd: number, p: string): boolean => {
    let reported = false;
    eachChild(dirFd, (name, st, fd) => {
      const cp = `${p}/${name}`;
      seen.add(cp);
      const lower = inImage(image, cp);
      if (fd !== undefined) {
        const child = walk(fd, cp);
        if (!lower || !lower.isDirectory()) {
          if (view.mountTargets.has(cp) && !child) return;
          out.push({ kind: 'A', path: cp });
          reported = true;
        } else if (child || (lower.mode & 0o7777) !== (st.mode & 0o7777) || lower.uid !== st.uid || lower.gid !== st.gid) {
          out.push({ kind: 'C', path: cp });
          reported = true;
        }
        return;
      }
      if (!lower) {
        if (view.mountTargets.has(cp) && st.isFile() && st.size === 0) return;
        out.push({ kind: 'A', path: cp });
        reported = true;
      } else if ((lower.mode & 0o170000) !== (st.mode & 0o170000) || lower.size !== st.size || (lower.mode & 0o7777) !== (st.mode & 0o7777) || lower.uid !== st.uid || lower.gid !== st.gid || Math.floor(lower.mtimeMs) !== Math.floor(st.mtimeMs)) {
        out.push({ kind: 'C', path: cp });
        reported = true;
      }
    });
    return reported;
  };
  const fd = openRoot(view.upper);
  try {
    walk(fd, '');
  } finally {
    closeQuiet(fd);
  }
  // deletions: image entries missing from the copy (the image is ours: walked by path)
  const walkImage = (p: string) => {
    const names = listImageDir(image, p || '/');
    if (!names) return;
    for (const [name, e] of names) {
      const cp = `${p}/${name}`;
      if (!seen.has(cp)) out.push({ kind: 'D', path: cp });
      else if (e.stat.isDirectory()) walkImage(cp);
    }
  };
  if (image.length) walkImage('');
  return out;
}

/** docker export: upper over the image's layers (vfs: the private copy alone), as a tar on `out`. */
export async function exportFileSystem(view: ContainerView, out: Writable, signal?: AbortSignal): Promise<void> {
  const tar = new TarWriter(out);
  await walkMergedLayers(view.layers, tarVisitor(tar), signal);
  await tar.finish();
}

const marker = (rel: string, base: string) => ({ name: `${rel === '' ? '' : `${rel}/`}${base}`, type: 'file' as const, mode: 0, uid: 0, gid: 0, mtime: 0, size: 0 });

/**
 * commit's layer: the `changes` (from upperChanges/vfsChanges) as a tar, read by a second fd walk of the upper
 * directory that descends only where changes are (deletions as `.wh.` files, opaque directories as `.wh..wh..opq`).
 * What is found is what is written: an entry swapped meanwhile is archived as what it is now.
 */
export async function tarChanges(view: ContainerView, changes: Change[], tar: TarWriter, signal?: AbortSignal): Promise<void> {
  // parent path → name → its change ('pass': not changed itself, but changes lie below it)
  const kinds = new Map<string, Map<string, ChangeKind | 'pass'>>();
  const note = (p: string, kind: ChangeKind | 'pass') => {
    const i = p.lastIndexOf('/');
    const parent = p.slice(0, i);
    if (!kinds.has(parent)) kinds.set(parent, new Map());
    const names = kinds.get(parent)!;
    if (kind !== 'pass' || !names.has(p.slice(i + 1))) names.set(p.slice(i + 1), kind);
    if (parent !== '') note(parent, 'pass');
  };
  for (const c of changes) note(c.path, c.kind);
  const visitor = tarVisitor(tar);
  const walk = async (dirFd: number, p: string): Promise<void> => {
    const here = kinds.get(p);
    if (!here) return;
    for (const [name, kind] of [...here].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      signal?.throwIfAborted();
      const cp = `${p}/${name}`;
      const rel = cp.slice(1);
      if (kind === 'D') {
        await tar.add(marker(p.slice(1), `.wh.${name}`));
        continue;
      }
      const st = lstatAt(dirFd, name);
      if (!st || (kind === 'pass' && !st.isDirectory())) continue;
      if (!st.isDirectory()) {
        await walkChild(dirFd, name, rel, visitor, signal);
        continue;
      }
      let fd: number;
      try {
        fd = openDirAt(dirFd, name);
      } catch {
        await walkChild(dirFd, name, rel, visitor, signal);
        continue;
      }
      try {
        if (kind !== 'pass') await visitor.dir(rel, fs.fstatSync(fd), fd);
        if (kind !== 'pass' && view.driver === 'overlay' && isOpaqueFd(fd)) await tar.add(marker(rel, '.wh..wh..opq'));
        await walk(fd, cp);
      } finally {
        closeQuiet(fd);
      }
    }
  };
  const fd = openRoot(view.upper);
  try {
    await walk(fd, '');
  } finally {
    closeQuiet(fd);
  }
}

/**
 * The changes without the directories made only to hold mount points (`/run/secrets` for `/run/secrets/x`):
 * an added directory above a mount target with nothing else added below it. build's RUN layers leave them out, as
 * BuildKit does; diff and commit keep them, as docker's.
 */
export function withoutMountSkeleton(changes: Change[], targets: ReadonlySet<string>): Change[] {
  const above = (p: string) => [...targets].some((t) => t.startsWith(`${p}/`));
  const skeleton = new Set(changes.filter((c) => c.kind === 'A' && above(c.path)).map((c) => c.path));
  for (const c of changes) {
    if (skeleton.has(c.path)) continue;
    // something real below a skeleton candidate: the directories above it stay
    for (let p = c.path.slice(0, c.path.lastIndexOf('/')); p !== ''; p = p.slice(0, p.lastIndexOf('/'))) skeleton.delete(p);
  }
  return changes.filter((c) => !skeleton.has(c.path));
}
