import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { withLock } from '../state/lock.js';
import { listEntryDir, lookupImagePath, type ImageEntry } from '../storage/imagefs.js';
import { pidAlive, removeTree } from '../storage/tmp.js';
import { isOverlayXattr } from '../storage/whiteout.js';
import { xattrFailureTolerated } from '../storage/xattr-policy.js';
import { RENAME_EXCHANGE, SysError, lgetxattr, llistxattr, lsetxattr, mknod, renameat2 } from '../sys/index.js';

export interface SeedStats {
  /** entries copied (the volume root not counted) */
  entries: number;
  /** bytes of regular files copied */
  bytes: number;
  /** device nodes not created for lack of CAP_MKNOD, sockets, and xattrs or owners the kernel refused */
  skipped: number;
}

export interface SeedResult {
  /** false when nothing was done: the volume already had data, or the path is not a directory in the image */
  seeded: boolean;
  stats: SeedStats;
}

const STAGING_PREFIX = '.seed-';

/**
 * Docker's copy-up of image content into a fresh volume: copy the merged image view of `containerPath`
 * (symlinks inside the image followed to find it) into `volumeDataDir`, which then takes that directory's
 * owner, mode, times and xattrs. Nothing happens when the volume already holds anything (docker copies
 * into empty volumes only) or when the path is missing or not a directory in the image. Callers decide
 * the rest of docker's rules: named and anonymous volumes only, not binds, not with `nocopy`.
 *
 * Crash-safe and race-free: the copy is built in a staging directory beside `_data`, under a lock file in
 * the volume directory, and swapped in with one renameat2(RENAME_EXCHANGE), so the volume is either still
 * empty or completely seeded. (A container that already had the empty volume mounted keeps the old, empty
 * directory; docker would copy into it in place. Seeding happens before the first mount, so this does not arise.)
 *
 * Copied: regular files (content, hardlinks kept as hardlinks), directories, symlinks (targets verbatim),
 * fifos, device nodes (when permitted), owners (lchown, ids as stored in the layers), modes including
 * setuid/setgid/sticky, atime/mtime, and xattrs the kernel accepts (overlay's own never).
 */
export async function seedVolume(volumeDataDir: string, imageLayers: readonly string[], containerPath: string): Promise<SeedResult> {
  const stats: SeedStats = { entries: 0, bytes: 0, skipped: 0 };
  const volumeDir = path.dirname(volumeDataDir);
  return withLock(path.join(volumeDir, '.seed.lock'), 'exclusive', async () => {
    await sweepStaging(volumeDir);
    if ((await fs.promises.readdir(volumeDataDir)).length > 0) return { seeded: false, stats };
    const src = lookupImagePath(imageLayers, containerPath);
    if (!src || !src.stat.isDirectory()) return { seeded: false, stats };
    const staging = path.join(volumeDir, `${STAGING_PREFIX}${process.pid}-${crypto.randomBytes(6).toString('hex')}`);
    try {
      fs.mkdirSync(staging, 0o700);
      new Copier(stats).tree(src, staging);
      renameat2(staging, volumeDataDir, RENAME_EXCHANGE);
    } catch (err) {
      await removeTree(staging);
      throw err;
    }
    await removeTree(staging); // now the old, empty _data
    return { seeded: true, stats };
  });
}

/** Staging directories of processes that died mid-copy. */
async function sweepStaging(volumeDir: string): Promise<void> {
  for (const name of await fs.promises.readdir(volumeDir)) {
    if (!name.startsWith(STAGING_PREFIX)) continue;
    const pid = Number(name.slice(STAGING_PREFIX.length).split('-')[0]);
    if (pid === process.pid || (Number.isInteger(pid) && pid > 0 && pidAlive(pid))) continue;
    await removeTree(path.join(volumeDir, name));
  }
}

class Copier {
  /** `<layerDir>\0<dev>:<ino>` of copied multiply-linked files → their copy, to link instead of copy again */
  private readonly links = new Map<string, string>();

  constructor(private readonly stats: SeedStats) {}

  /** Copy the directory `dir` (its contents, then its own attributes) onto the existing directory `dest`. */
  tree(dir: ImageEntry, dest: string): void {
    for (const [name, child] of listEntryDir(dir)) {
      const to = path.join(dest, name);
      if (this.entry(child, to)) this.stats.entries++;
    }
    this.attributes(dir, dest);
  }

  private entry(e: ImageEntry, to: string): boolean {
    const st = e.stat;
    const from = path.join(e.layerDir, e.relPath);
    if (st.isDirectory()) {
      fs.mkdirSync(to, 0o700);
      this.tree(e, to);
      return true;
    }
    if (st.isFile()) {
      const key = `${e.layerDir}\0${st.dev}:${st.ino}`;
      const first = st.nlink > 1 ? this.links.get(key) : undefined;
      if (first) {
        fs.linkSync(first, to);
        return true;
      }
      // FICLONE: a reflink where the file system can, a plain copy elsewhere
      fs.copyFileSync(from, to, fs.constants.COPYFILE_EXCL | fs.constants.COPYFILE_FICLONE);
      this.stats.bytes += st.size;
      if (st.nlink > 1) this.links.set(key, to);
      this.attributes(e, to);
      return true;
    }
    if (st.isSymbolicLink()) {
      fs.symlinkSync(fs.readlinkSync(from), to);
      this.attributes(e, to);
      return true;
    }
    if (st.isFIFO() || st.isCharacterDevice() || st.isBlockDevice()) {
      try {
        mknod(to, (st.mode & fs.constants.S_IFMT) | 0o600, major(st.rdev), minor(st.rdev));
      } catch (err) {
        if (err instanceof SysError && err.code === 'EPERM' && !st.isFIFO()) {
          this.stats.skipped++;
          return false;
        }
        throw err;
      }
      this.attributes(e, to);
      return true;
    }
    this.stats.skipped++; // sockets: nothing to copy
    return false;
  }

  /** Owner, then xattrs (chown drops security.capability), then mode (chown clears setuid), then times. */
  private attributes(e: ImageEntry, to: string): void {
    const st = e.stat;
    const from = path.join(e.layerDir, e.relPath);
    try {
      fs.lchownSync(to, st.uid, st.gid);
    } catch (err) {
      // EINVAL: an id not mapped in this user namespace; EPERM: no CAP_CHOWN. The copy stays ours.
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EINVAL' && code !== 'EPERM') throw err;
      this.stats.skipped++;
    }
    this.xattrs(from, to, st.isFile() || st.isDirectory());
    if (!st.isSymbolicLink()) fs.chmodSync(to, st.mode & 0o7777);
    fs.lutimesSync(to, st.atime, st.mtime);
  }

  private xattrs(from: string, to: string, userAllowed: boolean): void {
    let names: string[];
    try {
      names = llistxattr(from);
    } catch (err) {
      if (xattrFailureTolerated(err, 'read')) return;
      throw err;
    }
    for (const name of names) {
      if (isOverlayXattr(name)) continue;
      const value = lgetxattr(from, name);
      if (value === undefined) continue;
      try {
        lsetxattr(to, name, value);
      } catch (err) {
        if (!xattrFailureTolerated(err, 'write', name, userAllowed)) throw err;
        this.stats.skipped++;
      }
    }
  }
}


/** glibc's gnu_dev_major / gnu_dev_minor for the dev_t Node reports as a number. */
function major(dev: number): number {
  const d = BigInt(dev);
  return Number(((d >> 8n) & 0xfffn) | ((d >> 32n) & 0xfffff000n));
}

function minor(dev: number): number {
  const d = BigInt(dev);
  return Number((d & 0xffn) | ((d >> 12n) & 0xffffff00n));
}
