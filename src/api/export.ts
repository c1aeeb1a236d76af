import fs from 'node:fs';
import type { Writable } from 'node:stream';
import type { Context } from './context.js';
import { TsdockError } from '../errors.js';
import { absOf, listEntryDir, lookup, openContainerView } from '../container/rootfs-view.js';
import type { ImageEntry } from '../storage/imagefs.js';
import { TarWriter, type TarWriteEntry } from '../storage/tarwriter.js';

export interface ExportOptions {
  container: string;
  /** where the tar goes */
  out: Writable;
}

/** docker export: the container's merged file system as a tar stream (image layers + its changes, whiteouts applied). */
export async function exportContainer(opts: ExportOptions, ctx: Context): Promise<void> {
  const view = await openContainerView(ctx.root, opts.container);
  const rootEntry = lookup(view, '/');
  if (!rootEntry) throw new TsdockError('the container has no root file system');
  const tar = new TarWriter(opts.out);
  await tarMergedTree(tar, rootEntry, '', { links: new Map() }, ctx.signal);
  await tar.finish();
}

export interface TreeState {
  /** dev:ino → archive name of the first copy (hardlinks) */
  links: Map<string, string>;
}

/** The tar header of an entry of the merged view (or any lstat), named `name`. */
export function entryHeader(name: string, abs: string, st: fs.Stats): TarWriteEntry | undefined {
  const base = { name, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: Math.floor(st.mtimeMs / 1000) };
  if (st.isDirectory()) return { ...base, type: 'directory' };
  if (st.isFile()) return { ...base, type: 'file', size: st.size };
  if (st.isSymbolicLink()) return { ...base, type: 'symlink', linkname: fs.readlinkSync(abs) };
  if (st.isCharacterDevice() || st.isBlockDevice()) {
    const major = Number((BigInt(st.rdev) >> 8n) & 0xfffn) | Number((BigInt(st.rdev) >> 32n) & ~0xfffn);
    const minor = (st.rdev & 0xff) | Number((BigInt(st.rdev) >> 12n) & 0xffffff00n);
    return { ...base, type: st.isCharacterDevice() ? 'chardev' : 'blockdev', devmajor: major, devminor: minor };
  }
  if (st.isFIFO()) return { ...base, type: 'fifo' };
  return undefined; // sockets are not archived
}

/** Write `entry` as `name` ('' = the root, not written itself) and, for a directory, everything below it. */
export async function tarMergedTree(tar: TarWriter, entry: ImageEntry, name: string, state: TreeState, signal?: AbortSignal): Promise<void> {
  signal?.throwIfAborted();
  const abs = absOf(entry);
  if (name !== '') await addOne(tar, name, abs, entry.stat, state);
  if (!entry.stat.isDirectory()) return;
  for (const [child, e] of listEntryDir(entry)) await tarMergedTree(tar, e, name === '' ? child : `${name}/${child}`, state, signal);
}

export async function addOne(tar: TarWriter, name: string, abs: string, st: fs.Stats, state: TreeState): Promise<void> {
  const h = entryHeader(name, abs, st);
  if (!h) return;
  if (h.type === 'file' && st.nlink > 1) {
    const key = `${st.dev}:${st.ino}`;
    const first = state.links.get(key);
    if (first !== undefined) {
      await tar.add({ ...h, type: 'hardlink', size: 0, linkname: first });
      return;
    }
    state.links.set(key, name);
  }
  await tar.add(h, h.type === 'file' ? abs : undefined);
}
