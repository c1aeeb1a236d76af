import fs from 'node:fs';
import { at, closeQuiet, isKernelFsFd, lstatAt, openDirAt, openFileAt, readDirFd } from './fdwalk.js';
import { entryHeader, type TarWriteEntry, type TarWriter } from './tarwriter.js';

/**
 * A depth-first walk of a tree someone else may change meanwhile, by directory fds only (fdwalk.ts): each
 * subdirectory is opened O_DIRECTORY|O_NOFOLLOW relative to its parent's fd, each file opened O_NOFOLLOW|O_NONBLOCK
 * and checked with fstat. An entry swapped for another type mid-walk is reported as what it is now (a symlink as a
 * link, never followed) or skipped when it vanished or no longer matches; nothing outside the tree is ever reached.
 */
export interface TreeVisitor {
  /** a directory, before its children (`fd` open for the visit); return false to skip its children */
  dir(name: string, stat: fs.Stats, fd: number): Promise<boolean | void> | boolean | void;
  /** after a directory's children (metadata that writing children would disturb: mode, mtime) */
  dirDone?(name: string, stat: fs.Stats, fd: number): Promise<void> | void;
  /** a regular file, open for reading at offset 0 */
  file(name: string, stat: fs.Stats, fd: number): Promise<void> | void;
  symlink(name: string, stat: fs.Stats, target: string): Promise<void> | void;
  /** FIFOs, character and block devices (sockets are never reported) */
  special(name: string, stat: fs.Stats): Promise<void> | void;
}

const join = (base: string, name: string) => (base === '' ? name : `${base}/${name}`);

/** Visit the directory open as `dirFd` itself as `name` ('' = not reported, only its children), then below it. */
export async function walkDirFd(dirFd: number, name: string, v: TreeVisitor, signal?: AbortSignal): Promise<void> {
  signal?.throwIfAborted();
  const st = fs.fstatSync(dirFd);
  if (name !== '' && (await v.dir(name, st, dirFd)) === false) return;
  for (const child of readDirFd(dirFd)) await walkChild(dirFd, child, join(name, child), v, signal);
  if (name !== '') await v.dirDone?.(name, st, dirFd);
}

/** Visit child `child` of `parentFd`, reported as `name`. */
export async function walkChild(parentFd: number, child: string, name: string, v: TreeVisitor, signal?: AbortSignal, tries = 0): Promise<void> {
  signal?.throwIfAborted();
  const st = lstatAt(parentFd, child);
  if (!st) return;
  if (st.isDirectory()) {
    let fd: number;
    try {
      fd = openDirAt(parentFd, child);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // swapped between lstat and open: look again (a few times; a tight swap loop just skips the entry)
      if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP') return tries < 3 ? walkChild(parentFd, child, name, v, signal, tries + 1) : undefined;
      throw err;
    }
    try {
      // a mount of the kernel's own file systems (the container's /proc, /sys): the directory, not its contents
      if (st.dev !== fs.fstatSync(parentFd).dev && isKernelFsFd(fd)) {
        const own = fs.fstatSync(fd);
        if ((await v.dir(name, own, fd)) !== false) await v.dirDone?.(name, own, fd);
      } else await walkDirFd(fd, name, v, signal);
    } finally {
      closeQuiet(fd);
    }
  } else if (st.isFile()) {
    const f = openFileAt(parentFd, child);
    if (!f) return; // swapped for something else between lstat and open: not read
    try {
      await v.file(name, f.stat, f.fd);
    } finally {
      closeQuiet(f.fd);
    }
  } else if (st.isSymbolicLink()) {
    let target: string;
    try {
      target = fs.readlinkSync(at(parentFd, child));
    } catch {
      return;
    }
    await v.symlink(name, st, target);
  } else if (st.isFIFO() || st.isCharacterDevice() || st.isBlockDevice()) {
    await v.special(name, st);
  }
}

/** A visitor writing each entry to a tar (names under `prefix`; regular files with several links as hardlinks). */
export function tarVisitor(tar: TarWriter, links = new Map<string, string>()): TreeVisitor {
  const add = async (name: string, st: fs.Stats, extra: Partial<TarWriteEntry> = {}, body?: { fd: number }) => {
    const h = entryHeader(name, st, extra.linkname);
    if (!h) return;
    if (h.type === 'file' && st.nlink > 1) {
      const key = `${st.dev}:${st.ino}`;
      const first = links.get(key);
      if (first !== undefined) return tar.add({ ...h, type: 'hardlink', size: 0, linkname: first });
      links.set(key, name);
    }
    await tar.add(h, body);
  };
  return {
    dir: (name, st) => add(name, st),
    file: (name, st, fd) => add(name, st, {}, { fd }),
    symlink: (name, st, target) => add(name, st, { linkname: target }),
    special: (name, st) => add(name, st),
  };
}
