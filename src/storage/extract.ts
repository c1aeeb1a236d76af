import fs from 'node:fs';
import { SysError, lsetxattr, lutimes, mknod, symlink } from '../sys/index.js';
import { writeBody } from './filewrite.js';
import { LayerTree, lstatOrUndefined } from './layertree.js';
import type { TarEntry } from './tarreader.js';
import { depthOf, normalizeEntryPath, unsafe } from './tarpath.js';
import { xattrFailureTolerated } from './xattr-policy.js';
import { isOverlayXattr, makeWhiteout, markOpaque, type Whiteout, type WhiteoutFormat } from './whiteout.js';

export interface ExtractOptions {
  whiteouts: WhiteoutFormat;
  idMap?: (uid: number, gid: number) => { uid: number; gid: number };
  chown: boolean;
  signal?: AbortSignal;
}

export interface ExtractCounters {
  entries: number;
  bytes: number;
  skippedDevices: number;
  skippedXattrs: number;
  /** directories this layer made opaque (relative paths, '' = the layer root), kept in layer.json so readers
   * of the merged view need no xattr (and no koffi) look-ups */
  opaqueDirs: string[];
}

interface DirMeta {
  mode: number;
  atime: number;
  mtime: number;
}

const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, S_IFCHR, S_IFBLK, S_IFIFO } = fs.constants;

/**
 * Creates entries in a LayerTree: content, then ownership (through idMap, never following symlinks; only where
 * the new inode's owner differs), then
 * xattrs (writing and chown both drop security.capability; user.* needs write permission, so before a
 * read-only mode), then the mode (chown clears setuid/setgid), then times. Directory modes and times are
 * applied by `finish`, deepest first, because creating children changes a directory's mtime and a
 * read-only directory could not receive them.
 */
export class Extractor {
  private readonly dirs = new Map<string, DirMeta>();
  /** directory (relative) → the owner an entry made in it gets (see chown) */
  private readonly createdOwner = new Map<string, { uid: number; gid: number }>();

  constructor(
    private readonly tree: LayerTree,
    private readonly opts: ExtractOptions,
    private readonly counters: ExtractCounters,
  ) {
    tree.onForget.push((rel, prefix) => {
      for (const dir of this.dirs.keys()) if (dir === rel || dir.startsWith(prefix)) this.dirs.delete(dir);
      for (const dir of this.createdOwner.keys()) if (dir === rel || dir.startsWith(prefix)) this.createdOwner.delete(dir);
    });
  }

  async file(e: TarEntry, rel: string, body: AsyncIterable<Buffer>): Promise<void> {
    this.tree.parentFor(rel, e.path);
    const abs = this.tree.abs(rel);
    const fd = this.replacing(rel, () => fs.openSync(abs, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600));
    try {
      await writeBody(fd, body, e.size, this.opts.signal);
      if (this.opts.chown) {
        const { uid, gid } = this.ids(e);
        const st = fs.fstatSync(fd);
        if (st.uid !== uid || st.gid !== gid) fs.fchownSync(fd, uid, gid);
      }
      this.xattrs(abs, e, true);
      fs.fchmodSync(fd, e.mode);
      fs.futimesSync(fd, e.atime, e.mtime);
    } catch (err) {
      try {
        fs.closeSync(fd);
      } catch (closeErr) {
        if (err && typeof err === 'object') (err as { suppressed?: unknown }).suppressed = closeErr;
      }
      throw err;
    }
    fs.closeSync(fd);
    this.counters.bytes += e.size;
  }

  directory(e: TarEntry, rel: string): void {
    this.tree.parentFor(rel, e.path);
    const abs = this.tree.abs(rel);
    const existing = lstatOrUndefined(abs);
    if (existing && !existing.isDirectory()) this.tree.remove(rel);
    // a directory over a directory merges; new ones stay private (0700) until finish() sets their mode
    const fresh = !existing || !existing.isDirectory();
    if (fresh) fs.mkdirSync(abs, 0o700);
    this.tree.noteDir(rel);
    this.chown(abs, rel, e, fresh);
    // what is made in it from now on may take its (new) group
    this.createdOwner.delete(rel);
    this.xattrs(abs, e, true);
    this.dirs.set(rel, { mode: e.mode, atime: e.atime, mtime: e.mtime });
  }

  symlink(e: TarEntry, rel: string): void {
    if (e.linkpath === '') throw unsafe('symlink', e.path, 'it has an empty target');
    if (e.linkpath.includes('\0')) throw unsafe('symlink', e.path, 'its target contains a nul byte');
    this.tree.parentFor(rel, e.path);
    const abs = this.tree.abs(rel);
    // the target is kept verbatim: it is resolved inside the container's root later, and nothing in this
    // layer is ever written through it (parentFor refuses symlinked parents)
    this.replacing(rel, () => symlink(e.linkpath, abs));
    this.chown(abs, rel, e, true);
    this.xattrs(abs, e, false);
    lutimes(abs, e.atime, e.mtime);
  }

  hardlink(e: TarEntry, rel: string): void {
    const what = `hardlink ${JSON.stringify(e.path)} ->`;
    const target = normalizeEntryPath(e.linkpath, what);
    if (target === '') throw unsafe(what, e.linkpath, 'the target is the layer root');
    const absTarget = this.tree.abs(target);
    const st = this.tree.parentsExist(target, e.linkpath, what) ? lstatOrUndefined(absTarget) : undefined;
    if (!st) throw unsafe(what, e.linkpath, 'the target does not exist earlier in this layer');
    if (st.isDirectory()) throw unsafe(what, e.linkpath, 'the target is a directory');
    if (target === rel) return;
    this.tree.parentFor(rel, e.path);
    // link(2) does not follow a symlink target on Linux: linking to a symlink links the symlink itself
    this.replacing(rel, () => fs.linkSync(absTarget, this.tree.abs(rel)));
  }

  /** Character/block devices and fifos. Devices need CAP_MKNOD: without it they are skipped and counted. */
  node(e: TarEntry, rel: string): void {
    this.tree.parentFor(rel, e.path);
    const abs = this.tree.abs(rel);
    const type = e.type === 'chardev' ? S_IFCHR : e.type === 'blockdev' ? S_IFBLK : S_IFIFO;
    try {
      this.replacing(rel, () => mknod(abs, type | 0o600, e.devmajor, e.devminor));
    } catch (err) {
      if (type !== S_IFIFO && err instanceof SysError && err.code === 'EPERM') {
        this.counters.skippedDevices++;
        return;
      }
      throw err;
    }
    this.chown(abs, rel, e, true);
    this.xattrs(abs, e, false);
    fs.chmodSync(abs, e.mode);
    lutimes(abs, e.atime, e.mtime);
  }

  whiteout(w: Whiteout, e: TarEntry): void {
    if (w.kind === 'opaque') {
      this.tree.ensureDir(w.dir, e.path, 'whiteout');
      markOpaque(this.tree.abs(w.dir), this.opts.whiteouts);
      this.counters.opaqueDirs.push(w.dir);
    } else if (w.kind === 'file') {
      this.tree.parentFor(w.target, e.path, 'whiteout');
      makeWhiteout(this.tree.abs(w.target));
    }
  }

  /** Apply directory modes and times, deepest first. */
  finish(): void {
    const dirs = [...this.dirs].sort((a, b) => depthOf(b[0]) - depthOf(a[0]));
    for (const [rel, meta] of dirs) {
      const abs = this.tree.abs(rel);
      fs.chmodSync(abs, meta.mode);
      lutimes(abs, meta.atime, meta.mtime);
    }
    this.dirs.clear();
  }

  /** Run `create`; if the path is taken (an earlier entry), remove that and run it once more. */
  private replacing<T>(rel: string, create: () => T): T {
    try {
      return create();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    this.tree.remove(rel);
    return create();
  }

  private ids(e: TarEntry): { uid: number; gid: number } {
    return this.opts.idMap ? this.opts.idMap(e.uid, e.gid) : { uid: e.uid, gid: e.gid };
  }

  /**
   * Most entries are owned by the ids they are created with (root's, in a rootful store or tsdock's user
   * namespace), and then need no chown. Skipping it changes nothing else: a new inode has no setuid bits or
   * capabilities for the chown to clear, and mode and xattrs come after. What a new inode is owned by is the
   * same for every entry made in one directory (this process's fsuid, and its fsgid or the directory's group):
   * learned by one lstat per directory (`fresh`: made just now), not one per entry.
   */
  private chown(abs: string, rel: string, e: TarEntry, fresh: boolean): void {
    if (!this.opts.chown) return;
    const { uid, gid } = this.ids(e);
    const parent = rel.includes('/') ? rel.slice(0, rel.lastIndexOf('/')) : '';
    let owner = fresh ? this.createdOwner.get(parent) : undefined;
    if (!owner) {
      const st = fs.lstatSync(abs);
      owner = { uid: st.uid, gid: st.gid };
      if (fresh) this.createdOwner.set(parent, owner);
    }
    if (owner.uid !== uid || owner.gid !== gid) fs.lchownSync(abs, uid, gid);
  }

  /** `userAllowed`: the kernel accepts user.* xattrs here (regular files and directories only); failures: xattr-policy.ts. */
  private xattrs(abs: string, e: TarEntry, userAllowed: boolean): void {
    for (const [name, value] of e.xattrs) {
      if (isOverlayXattr(name)) {
        this.counters.skippedXattrs++;
        continue;
      }
      try {
        lsetxattr(abs, name, value);
      } catch (err) {
        if (!xattrFailureTolerated(err, 'write', name, userAllowed)) throw err;
        this.counters.skippedXattrs++;
      }
    }
  }
}

