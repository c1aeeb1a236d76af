import fs from 'node:fs';
import os from 'node:os';
import { UsageError } from '../errors.js';

export type StorageDriver = 'overlay' | 'vfs';

export interface DriverChoice {
  driver: StorageDriver;
  /** why this one, for `info` */
  reason: string;
}

/** the running kernel is at least major.minor (rootless overlayfs: 5.11; mount_setattr: 5.12) */
export function kernelAtLeast(major: number, minor: number, release = os.release()): boolean {
  const [a = 0, b = 0] = release.split(/[.-]/).map((x) => Number.parseInt(x, 10));
  return a > major || (a === major && b >= minor);
}

/**
 * The container rootfs driver. `overlay` (kernel overlayfs; rootless needs Linux 5.11 for unprivileged
 * mounts with `userxattr`), else `vfs`: a private, fully merged copy of the image per container (slow for big
 * images, works everywhere). fuse-overlayfs is not supported yet: where it would be the fallback, vfs is used.
 * `--storage-driver` / TSDOCK_STORAGE_DRIVER choose explicitly.
 */
export function chooseDriver(requested: string | undefined, rootful: boolean): DriverChoice {
  if (requested) {
    if (requested !== 'overlay' && requested !== 'vfs') throw new UsageError(`unknown storage driver "${requested}" (supported: overlay, vfs)`);
    return { driver: requested, reason: 'chosen with --storage-driver' };
  }
  let filesystems = '';
  try {
    filesystems = fs.readFileSync('/proc/filesystems', 'utf8');
  } catch {
    // no /proc: assume nothing
  }
  if (!/\toverlay$/m.test(filesystems)) return { driver: 'vfs', reason: 'the kernel has no overlayfs' };
  if (!rootful && !kernelAtLeast(5, 11)) return { driver: 'vfs', reason: 'rootless overlayfs needs Linux 5.11' };
  return { driver: 'overlay', reason: rootful ? 'kernel overlayfs' : 'kernel overlayfs (userxattr)' };
}
