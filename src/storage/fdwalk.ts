import fs from 'node:fs';
import path from 'node:path';
import { TsdockError } from '../errors.js';
import { xattrFailureTolerated } from './xattr-policy.js';
import { RESOLVE_BENEATH, RESOLVE_IN_ROOT, RESOLVE_NO_MAGICLINKS, RESOLVE_NO_SYMLINKS, lgetxattr, openat2, SysError } from '../sys/index.js';

/**
 * File access relative to directory fds, for trees that someone else can change while we walk them (a running
 * container's root, its upper directory). A path string is never re-walked after a check: every operation names a
 * child `name` of an open directory fd N, through `/proc/self/fd/N/name` with a call that does not follow a final
 * symlink (lstat, mkdir, symlink, link, lchown, unlink, mknod), or opens it with openat2(N, name) under
 * RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS and O_NOFOLLOW, and checks the type with fstat on the fd it got. A FIFO or
 * device swapped in is opened O_NONBLOCK and refused by its type, never read.
 */

const { O_RDONLY, O_WRONLY, O_DIRECTORY, O_NOFOLLOW, O_NONBLOCK, O_CREAT, O_EXCL } = fs.constants;
/** every fd this module opens is close-on-exec (openat2 adds O_CLOEXEC) */
const CHILD = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;

/** The path naming `name` in the directory open as `dirFd` (no `/`, `.` or `..` in `name`). */
export function at(dirFd: number, name: string): string {
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) throw new TsdockError(`invalid file name ${JSON.stringify(name)}`);
  return `/proc/self/fd/${dirFd}/${name}`;
}

/** The path of the open directory itself (`/proc/self/fd/N/.`: resolves to the directory, not the magic link). */
export function self(dirFd: number): string {
  return `/proc/self/fd/${dirFd}/.`;
}

export function closeQuiet(fd: number | undefined): void {
  if (fd === undefined || fd < 0) return;
  try {
    fs.closeSync(fd);
  } catch {
    // already closed: nothing to undo
  }
}

/** lstat of a child, undefined when it does not exist. */
export function lstatAt(dirFd: number, name: string): fs.Stats | undefined {
  try {
    return fs.lstatSync(at(dirFd, name));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw err;
  }
}

/** The sorted names in an open directory. */
export function readDirFd(dirFd: number): string[] {
  return fs.readdirSync(self(dirFd)).sort();
}

/** A second fd for an open directory (the caller closes both). */
export function reopenDir(dirFd: number): number {
  return fs.openSync(self(dirFd), O_RDONLY | O_DIRECTORY);
}

/** Open a child directory (never through a symlink). Throws ENOTDIR / ELOOP when it is anything else. */
export function openDirAt(dirFd: number, name: string): number {
  at(dirFd, name);
  return openat2(dirFd, name, { flags: O_RDONLY | O_DIRECTORY | O_NOFOLLOW, resolve: CHILD });
}

/**
 * Open a child for reading if, once open, it is a regular file: `{ fd, stat }`, or undefined for any other type
 * (a symlink, FIFO or device swapped in between the caller's lstat and this open is not followed and not read).
 */
export function openFileAt(dirFd: number, name: string): { fd: number; stat: fs.Stats } | undefined {
  at(dirFd, name);
  let fd: number;
  try {
    fd = openat2(dirFd, name, { flags: O_RDONLY | O_NOFOLLOW | O_NONBLOCK, resolve: CHILD });
  } catch (err) {
    if (err instanceof SysError && ['ELOOP', 'ENOENT', 'ENXIO', 'EACCES'].includes(err.code)) return undefined;
    throw err;
  }
  const stat = fs.fstatSync(fd);
  if (!stat.isFile()) {
    fs.closeSync(fd);
    return undefined;
  }
  return { fd, stat };
}

/** Create a child regular file that did not exist (O_CREAT|O_EXCL|O_NOFOLLOW), open for writing. */
export function createFileAt(dirFd: number, name: string, mode: number): number {
  at(dirFd, name);
  return openat2(dirFd, name, { flags: O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode: mode & 0o7777, resolve: CHILD });
}

/** Remove a child that is not a directory (a symlink is removed, not followed). ENOENT is fine. */
export function unlinkAt(dirFd: number, name: string): void {
  try {
    fs.unlinkSync(at(dirFd, name));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

/** An overlay opaque marker on an open directory, in either namespace. */
export function isOpaqueFd(dirFd: number): boolean {
  for (const name of ['trusted.overlay.opaque', 'user.overlay.opaque']) {
    try {
      if (lgetxattr(self(dirFd), name)?.toString() === 'y') return true;
    } catch (err) {
      if (xattrFailureTolerated(err, 'read')) continue;
      throw err;
    }
  }
  return false;
}

/** statfs f_type of the kernel's own file systems (linux/magic.h): proc, sysfs, cgroup v1/v2, devpts, mqueue, securityfs, debugfs, tracefs, bpf */
const KERNEL_FS = new Set([0x9fa0, 0x62656572, 0x27e0eb, 0x63677270, 0x1cd1, 0x19800202, 0x73636673, 0x64626720, 0x74726163, 0xcafe4a11]);

/** Whether an open directory lies on one of the kernel's own file systems (a container's /proc, /sys): a copy does not descend into them. */
export function isKernelFsFd(dirFd: number): boolean {
  return KERNEL_FS.has(Number(fs.statfsSync(self(dirFd)).type));
}

const MAX_LINKS = 40;

/** Where a container path resolved: its parent directory (open) and its final name ('' for the root itself). */
export interface Resolved {
  /** open directory fd: the parent of `name`, or the root directory itself when `name` is '' (caller closes) */
  dirFd: number;
  name: string;
  /** the cleaned container path it ended at (after following final symlinks) */
  path: string;
  /** lstat of the final component; undefined when it does not exist */
  stat?: fs.Stats;
}

/**
 * Resolve a container path inside `rootFd` as docker does: the path is cleaned lexically (`..` never above `/`),
 * every directory on the way is opened with openat2(RESOLVE_IN_ROOT) (symlinks followed inside the root, never out
 * of it), and the final component is followed only when `followFinal` (then its target is resolved the same way).
 */
export function resolveInRoot(rootFd: number, containerPath: string, followFinal: boolean): Resolved {
  let p = path.posix.normalize(`/${containerPath}`).replace(/\/+$/, '') || '/';
  for (let links = 0; ; links++) {
    if (p === '/') return { dirFd: openat2(rootFd, '/', { flags: O_RDONLY | O_DIRECTORY, resolve: RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS }), name: '', path: '/', stat: fs.fstatSync(rootFd) };
    const parent = path.posix.dirname(p);
    const name = path.posix.basename(p);
    const dirFd = openat2(rootFd, parent, { flags: O_RDONLY | O_DIRECTORY, resolve: RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS });
    let stat: fs.Stats | undefined;
    try {
      stat = lstatAt(dirFd, name);
      if (!followFinal || !stat?.isSymbolicLink()) return { dirFd, name, path: p, stat };
      if (links >= MAX_LINKS) throw new SysError('openat2', 40 /* ELOOP */, containerPath);
      const target = fs.readlinkSync(at(dirFd, name));
      p = path.posix.normalize(target.startsWith('/') ? target : `${parent}/${target}`).replace(/\/+$/, '') || '/';
    } catch (err) {
      fs.closeSync(dirFd);
      throw err;
    }
    fs.closeSync(dirFd);
  }
}
