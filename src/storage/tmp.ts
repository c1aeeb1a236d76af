import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { FS_TOPDIR_FL, addInodeFlags } from '../sys/index.js';

/**
 * Work in progress lives in <root>/tmp/<pid>-<random>: renamed into place on success, removed on failure,
 * and swept by a later command once its pid is gone (a kill -9 leaves nothing visible behind).
 */
export async function makeTmpDir(root: string, label = 'work'): Promise<string> {
  const tmp = path.join(root, 'tmp');
  const dir = path.join(tmp, `${process.pid}-${label}-${crypto.randomBytes(6).toString('hex')}`);
  try {
    fs.mkdirSync(dir, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    makeTmpRoot(tmp);
    fs.mkdirSync(dir, { mode: 0o700 });
  }
  return dir;
}

/**
 * The store's tmp dir, made once, marked as the top of directory hierarchies (chattr +T): each work dir made in
 * it (a layer being unpacked, a container's files) is placed by ext4 in a block group of its own choosing, with
 * free inodes, instead of beside its siblings. On an ext4 without a journal (this test machine's), allocating
 * an inode walks past every inode of its group freed in the last 30 s (`recently_deleted`): a layer unpacked
 * where containers were just removed paid ~90 µs per file. Elsewhere the flag is harmless, and a filesystem
 * without inode flags simply does not get it.
 */
function makeTmpRoot(tmp: string): void {
  fs.mkdirSync(path.dirname(tmp), { recursive: true, mode: 0o700 });
  try {
    fs.mkdirSync(tmp, { mode: 0o700 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return;
    throw err;
  }
  const fd = fs.openSync(tmp, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  try {
    addInodeFlags(fd, FS_TOPDIR_FL);
  } catch {
    // an optimisation only: tmpfs, overlayfs and others have no such flag
  } finally {
    fs.closeSync(fd);
  }
}

export async function removeTree(dir: string): Promise<void> {
  await fs.promises.rm(dir, { recursive: true, force: true, maxRetries: 3 });
}

/** a process with this pid exists (EPERM: it does, but is not ours) */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Remove leftovers of dead processes; returns how many entries were removed. */
export async function sweepTmp(root: string): Promise<number> {
  const dir = path.join(root, 'tmp');
  let names: string[];
  try {
    names = fs.readdirSync(dir); // a few names at most: no thread-pool round trip (a command's first would start the pool)
  } catch {
    return 0;
  }
  let removed = 0;
  for (const name of names) {
    const pid = Number(name.split('-')[0]);
    if (Number.isInteger(pid) && pid > 0 && pidAlive(pid) && pid !== process.pid) continue;
    if (pid === process.pid) continue;
    await removeTree(path.join(dir, name));
    removed++;
  }
  return removed;
}
