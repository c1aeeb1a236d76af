import fs from 'node:fs';
import os from 'node:os';
import { addon } from './addon.js';
import { SysError } from './errors.js';
import { check, invoke, libc } from './libc.js';

const { EWOULDBLOCK, EAGAIN, ENODATA, ERANGE } = os.constants.errno;

// flock(2) operations
export const LOCK_SH = 1;
export const LOCK_EX = 2;
export const LOCK_NB = 4;
export const LOCK_UN = 8;

/**
 * flock(2). Returns true when the lock was taken (or released). With LOCK_NB, a lock held elsewhere
 * returns false instead of throwing; every other failure throws SysError.
 */
export function flock(fd: number, op: number): boolean {
  // tsdock's addon when built (no koffi load for a lock), else koffi
  const fast = addon();
  const errno = fast ? -fast.flock(fd, op) : invoke(() => libc().flock(fd, op)).errno;
  if (errno === 0) return true;
  if ((op & LOCK_NB) !== 0 && (errno === EWOULDBLOCK || errno === EAGAIN)) return false;
  throw new SysError('flock', errno);
}

/**
 * symlink(2), as fs.symlinkSync. Through the addon when it has it: a layer makes one per symlink entry (busybox: 267),
 * where Node's argument checks and error context cost ~5 µs a call, about half the syscall's own time.
 */
export function symlink(target: string, path: string): void {
  const fast = addon()?.symlink;
  if (!fast) return fs.symlinkSync(target, path);
  const r = fast(target, path);
  if (r !== 0) throw new SysError('symlink', -r, path);
}

/** lutimes: times in seconds (fractions kept to the microsecond), never following a final symlink; as fs.lutimesSync */
export function lutimes(path: string, atime: number, mtime: number): void {
  const fast = addon()?.lutimes;
  if (!fast || !Number.isFinite(atime) || !Number.isFinite(mtime)) return fs.lutimesSync(path, atime, mtime);
  const r = fast(path, atime, mtime);
  if (r !== 0) throw new SysError('utimensat', -r, path);
}

/** FS_TOPDIR_FL (chattr +T): ext4's Orlov allocator spreads the directories made in such a directory over the disk */
export const FS_TOPDIR_FL = 0x00020000;
// _IOR('f', 1, long) and _IOW('f', 2, long) on 64-bit Linux
const FS_IOC_GETFLAGS = 0x80086601;
const FS_IOC_SETFLAGS = 0x40086602;

/**
 * Add inode flags (FS_IOC_GETFLAGS/SETFLAGS, what chattr does) to the file or directory open as `fd`; nothing is
 * written when they are all set already. Throws SysError (ENOTTY or EOPNOTSUPP where the filesystem has none).
 */
export function addInodeFlags(fd: number, mask: number): void {
  const fast = addon();
  if (fast) {
    const r = fast.inodeFlagsOr(fd, mask);
    if (r !== 0) throw new SysError('ioctl(FS_IOC_SETFLAGS)', -r);
    return;
  }
  const flags = Buffer.alloc(8);
  check('ioctl(FS_IOC_GETFLAGS)', undefined, () => libc().ioctl(fd, FS_IOC_GETFLAGS, flags));
  const now = flags.readInt32LE(0);
  if ((now & mask) === mask) return;
  flags.writeInt32LE(now | mask, 0);
  check('ioctl(FS_IOC_SETFLAGS)', undefined, () => libc().ioctl(fd, FS_IOC_SETFLAGS, flags));
}

/** glibc's gnu_dev_makedev: the 64-bit dev_t for a major/minor pair. */
export function makedev(major: number, minor: number): bigint {
  const ma = BigInt(major >>> 0);
  const mi = BigInt(minor >>> 0);
  return ((ma & 0xfffn) << 8n) | ((ma & 0xfffff000n) << 32n) | (mi & 0xffn) | ((mi & 0xffffff00n) << 12n);
}

/**
 * mknod(2). `mode` carries the file type (fs.constants.S_IFCHR / S_IFBLK / S_IFIFO / S_IFREG) and the
 * permission bits; the umask applies as usual. A 0/0 character device is an overlayfs whiteout, which
 * Linux >= 5.8 lets unprivileged users create.
 */
export function mknod(path: string, mode: number, major = 0, minor = 0): void {
  check('mknod', path, () => libc().mknod(path, mode >>> 0, makedev(major, minor)));
}

// setxattr(2) flags
export const XATTR_CREATE = 1;
export const XATTR_REPLACE = 2;

/** lsetxattr(2): set an extended attribute without following a final symlink. */
export function lsetxattr(path: string, name: string, value: Buffer, flags = 0): void {
  check('lsetxattr', path, () => libc().lsetxattr(path, name, value.length > 0 ? value : null, value.length, flags));
}

/** lgetxattr(2): the attribute's value, or undefined when it is not set (ENODATA). */
export function lgetxattr(path: string, name: string): Buffer | undefined {
  for (;;) {
    const probe = invoke(() => libc().lgetxattr(path, name, null, 0));
    if (probe.errno === ENODATA) return undefined;
    if (probe.errno !== 0) throw new SysError('lgetxattr', probe.errno, path);
    if (probe.result === 0) return Buffer.alloc(0);
    const buf = Buffer.alloc(probe.result);
    const r = invoke(() => libc().lgetxattr(path, name, buf, buf.length));
    if (r.errno === ERANGE) continue; // grew between the two calls
    if (r.errno === ENODATA) return undefined;
    if (r.errno !== 0) throw new SysError('lgetxattr', r.errno, path);
    return buf.subarray(0, r.result);
  }
}

/** llistxattr(2): the names of all extended attributes visible to us (not following a final symlink). */
export function llistxattr(path: string): string[] {
  for (;;) {
    const size = check('llistxattr', path, () => libc().llistxattr(path, null, 0));
    if (size === 0) return [];
    const buf = Buffer.alloc(size);
    const r = invoke(() => libc().llistxattr(path, buf, buf.length));
    if (r.errno === ERANGE) continue;
    if (r.errno !== 0) throw new SysError('llistxattr', r.errno, path);
    return buf
      .subarray(0, r.result)
      .toString('utf8')
      .split('\0')
      .filter((n) => n.length > 0);
  }
}

// renameat2(2) flags
export const RENAME_NOREPLACE = 1;
export const RENAME_EXCHANGE = 2;
export const RENAME_WHITEOUT = 4;
/** the directory-fd sentinel of the *at calls: relative paths start at the cwd */
export const AT_FDCWD = -100;

/**
 * renameat2(2) relative to the cwd: RENAME_NOREPLACE fails with EEXIST instead of replacing,
 * RENAME_EXCHANGE swaps the two paths atomically (both must exist).
 */
export function renameat2(oldPath: string, newPath: string, flags: number): void {
  check('renameat2', `${oldPath} -> ${newPath}`, () => libc().renameat2(AT_FDCWD, oldPath, AT_FDCWD, newPath, flags >>> 0));
}

// openat2(2) resolve flags
export const RESOLVE_NO_XDEV = 0x01;
export const RESOLVE_NO_MAGICLINKS = 0x02;
export const RESOLVE_NO_SYMLINKS = 0x04;
export const RESOLVE_BENEATH = 0x08;
export const RESOLVE_IN_ROOT = 0x10;

export interface OpenHow {
  /** open(2) flags (fs.constants.O_*); O_CLOEXEC is always added */
  flags: number;
  /** permission bits when creating (O_CREAT / O_TMPFILE), else 0 */
  mode?: number;
  /** RESOLVE_* bits */
  resolve: number;
}

const O_CLOEXEC = 0o2000000;

/**
 * openat2(2): open `path` relative to the directory fd `dirfd` under the RESOLVE_* rules, e.g. RESOLVE_IN_ROOT
 * (symlinks and `..` resolved as if `dirfd` were the root: nothing outside it is ever reached). Returns the new
 * fd (close-on-exec); the caller closes it.
 */
export function openat2(dirfd: number, path: string, how: OpenHow): number {
  const buf = Buffer.alloc(24);
  buf.writeBigUInt64LE(BigInt((how.flags | O_CLOEXEC) >>> 0), 0);
  buf.writeBigUInt64LE(BigInt(how.mode ?? 0), 8);
  buf.writeBigUInt64LE(BigInt(how.resolve), 16);
  return check('openat2', path, () => libc().openat2(dirfd, path, buf, buf.length));
}

const MFD_CLOEXEC = 1;

/** memfd_create(2): an anonymous in-memory file (close-on-exec); the caller closes it. */
export function memfdCreate(name: string): number {
  return check('memfd_create', name, () => libc().memfd_create(name, MFD_CLOEXEC));
}
