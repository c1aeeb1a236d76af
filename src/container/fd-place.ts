import fs from 'node:fs';
import { TsdockError } from '../errors.js';
import { at, closeQuiet, createFileAt, lstatAt, openDirAt, unlinkAt } from '../storage/fdwalk.js';
import { mknod } from '../sys/index.js';

/** One thing to create in the container (from a host path or a tar entry). */
export interface Source {
  type: 'file' | 'directory' | 'symlink' | 'hardlink' | 'chardev' | 'blockdev' | 'fifo';
  mode: number;
  uid: number;
  gid: number;
  mtime: Date;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  /** regular files: write the content to `fd` */
  write?: (fd: number) => void;
}

/**
 * Create `name` in the directory open as `parentFd`, replacing a non-directory there (unlinked, never followed).
 * Files are created O_CREAT|O_EXCL|O_NOFOLLOW and get owner, mode and times through their fd; symlinks and device
 * nodes through non-following calls on `/proc/self/fd/N/name`. A directory is created (or an existing one kept) and
 * returned open (O_DIRECTORY|O_NOFOLLOW) for its children: the caller closes it and calls setDirMeta after them.
 */
export function placeEntry(parentFd: number, name: string, s: Source): number | undefined {
  const ex = lstatAt(parentFd, name);
  if (s.type === 'directory') {
    if (ex && !ex.isDirectory()) unlinkAt(parentFd, name);
    if (!ex?.isDirectory()) mkdirAt(parentFd, name, 0o700);
    return openDirAt(parentFd, name);
  }
  if (ex?.isDirectory()) throw new TsdockError(`cannot overwrite directory "${name}" with non-directory in the container`);
  if (ex) unlinkAt(parentFd, name);
  const p = at(parentFd, name);
  switch (s.type) {
    case 'file': {
      const fd = createFileAt(parentFd, name, 0o600);
      try {
        s.write?.(fd);
        fs.fchownSync(fd, s.uid, s.gid);
        fs.fchmodSync(fd, s.mode & 0o7777);
        fs.futimesSync(fd, s.mtime, s.mtime);
      } finally {
        fs.closeSync(fd);
      }
      return undefined;
    }
    case 'symlink':
      fs.symlinkSync(s.linkname ?? '', p);
      break;
    case 'fifo':
    case 'chardev':
    case 'blockdev': {
      const type = s.type === 'fifo' ? fs.constants.S_IFIFO : s.type === 'chardev' ? fs.constants.S_IFCHR : fs.constants.S_IFBLK;
      const old = process.umask(0); // the exact mode at creation: a chmod by path would follow a swapped-in symlink
      try {
        mknod(p, type | (s.mode & 0o7777), s.devmajor ?? 0, s.devminor ?? 0);
      } finally {
        process.umask(old);
      }
      break;
    }
    case 'hardlink':
      throw new TsdockError('hardlinks are placed with linkInto');
  }
  fs.lchownSync(p, s.uid, s.gid);
  fs.lutimesSync(p, s.mtime, s.mtime);
  return undefined;
}

/** A directory's owner, mode and times, through its fd. */
export function setDirMeta(dirFd: number, s: Source): void {
  fs.fchownSync(dirFd, s.uid, s.gid);
  fs.fchmodSync(dirFd, s.mode & 0o7777);
  fs.futimesSync(dirFd, s.mtime, s.mtime);
}

function mkdirAt(parentFd: number, name: string, mode: number): void {
  try {
    fs.mkdirSync(at(parentFd, name), { mode });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
}

/** Open child directory `name`, creating it (0755, root) when missing and `create`. */
export function openOrMakeDir(parentFd: number, name: string, create: boolean): number {
  if (create && !lstatAt(parentFd, name)) {
    mkdirAt(parentFd, name, 0o755);
    const fd = openDirAt(parentFd, name);
    fs.fchownSync(fd, 0, 0);
    return fd;
  }
  return openDirAt(parentFd, name);
}

/** A tar hardlink: `linkParts` (relative to the extraction directory, real directories only) must be a regular file. */
export function linkInto(destFd: number, linkParts: string[], parentFd: number, name: string, entry: string): void {
  let fd = destFd;
  try {
    for (const part of linkParts.slice(0, -1)) {
      let next: number;
      try {
        next = openDirAt(fd, part);
      } catch {
        throw new TsdockError(`refusing to extract hardlink ${entry}: its target is not inside the archive's directories`);
      }
      if (fd !== destFd) closeQuiet(fd);
      fd = next;
    }
    const base = linkParts[linkParts.length - 1]!;
    if (!lstatAt(fd, base)?.isFile()) throw new TsdockError(`hardlink target of ${entry} is not a regular file`);
    const ex = lstatAt(parentFd, name);
    if (ex?.isDirectory()) throw new TsdockError(`cannot overwrite directory "${name}" with non-directory in the container`);
    if (ex) unlinkAt(parentFd, name);
    fs.linkSync(at(fd, base), at(parentFd, name)); // link(2) never follows a symlink named as its source
  } finally {
    if (fd !== destFd) closeQuiet(fd);
  }
}
