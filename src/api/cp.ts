import fs from 'node:fs';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import type { Context } from './context.js';
import { NotFoundError, TsdockError, UsageError } from '../errors.js';
import { absOf, ensureUpperDirs, isWhiteoutStat, listEntryDir, lookup, openContainerView, resolveForWrite, type ContainerView } from '../container/rootfs-view.js';
import type { ImageEntry } from '../storage/imagefs.js';
import { lookupImagePath } from '../storage/imagefs.js';
import { TarWriter } from '../storage/tarwriter.js';
import { ByteSource } from '../storage/bytesource.js';
import { TarReader, type TarEntry } from '../storage/tarreader.js';
import { normalizeEntryPath } from '../storage/tarpath.js';
import { whiteoutOf } from '../storage/whiteout.js';
import { tarMergedTree } from './export.js';
import { lsetxattr, mknod } from '../sys/index.js';

export interface CopyOptions {
  /** keep uid/gid (docker's -a) */
  archive?: boolean;
  /** follow a symlink named as the source on the host (docker's -L) */
  followLink?: boolean;
}

/** `CONTAINER:PATH` → {container, path}; undefined for a host path (docker: a colon before any slash). */
export function splitCopyArg(arg: string): { container: string; path: string } | undefined {
  if (arg.startsWith('/') || arg.startsWith('.')) return undefined;
  const i = arg.indexOf(':');
  if (i <= 0) return undefined;
  const head = arg.slice(0, i);
  if (head.includes('/')) return undefined;
  return { container: head, path: arg.slice(i + 1) };
}

const wantsContents = (p: string) => p === '.' || p.endsWith('/.');

// ---------------------------------------------------------------- out of the container

export interface CopyOutOptions extends CopyOptions {
  container: string;
  srcPath: string;
  /** host path, or '-' for a tar on `out` */
  dest: string;
  out?: Writable;
}

/**
 * Copy from the container's file system (its upper dir over its image layers; symlinks, the named one
 * included, resolved inside the container: an absolute target starts at the container's root).
 */
export async function copyFromContainer(opts: CopyOutOptions, ctx: Context): Promise<void> {
  const view = await openContainerView(ctx.root, opts.container);
  const src = containerPath(opts.srcPath);
  const entry = lookup(view, src, true);
  if (!entry) throw new NotFoundError(`Could not find the file ${opts.srcPath} in container ${opts.container}`);
  const contents = wantsContents(opts.srcPath) && entry.stat.isDirectory();
  const base = path.posix.basename(path.posix.normalize(src)) || '/';
  if (opts.srcPath.endsWith('/') && !entry.stat.isDirectory()) throw new TsdockError(`${opts.srcPath}: not a directory`);
  if (opts.dest === '-') {
    if (!opts.out) throw new UsageError('no output stream for -');
    const tar = new TarWriter(opts.out);
    await tarMergedTree(tar, entry, contents ? '' : base === '/' ? '' : base, { links: new Map() }, ctx.signal);
    await tar.finish();
    return;
  }
  const dest = path.resolve(ctx.cwd, opts.dest);
  const dst = fs.statSync(dest, { throwIfNoEntry: false });
  let target: string;
  if (dst?.isDirectory()) {
    target = contents || base === '/' ? dest : path.join(dest, base);
  } else if (dst) {
    if (entry.stat.isDirectory()) throw new TsdockError(`cannot copy a directory to a file: ${opts.dest}`);
    target = dest;
  } else {
    if (opts.dest.endsWith('/') && !entry.stat.isDirectory()) throw new TsdockError(`no such directory: ${opts.dest}`);
    const parent = fs.statSync(path.dirname(dest), { throwIfNoEntry: false });
    if (!parent?.isDirectory()) throw new TsdockError(`no such directory: ${path.dirname(dest)}`);
    target = dest;
  }
  if (contents && entry.stat.isDirectory()) {
    fs.mkdirSync(target, { recursive: true });
    for (const [name, e] of listEntryDir(entry)) writeHost(e, path.join(target, name), opts.archive ?? false, ctx.signal);
  } else {
    writeHost(entry, target, opts.archive ?? false, ctx.signal);
  }
}

function writeHost(e: ImageEntry, target: string, keepIds: boolean, signal?: AbortSignal): void {
  signal?.throwIfAborted();
  const abs = absOf(e);
  const st = e.stat;
  const existing = fs.lstatSync(target, { throwIfNoEntry: false });
  if (st.isDirectory()) {
    if (existing && !existing.isDirectory()) fs.unlinkSync(target);
    if (!existing?.isDirectory()) fs.mkdirSync(target, { mode: 0o700 });
    for (const [name, child] of listEntryDir(e)) writeHost(child, path.join(target, name), keepIds, signal);
  } else {
    if (existing?.isDirectory()) throw new TsdockError(`cannot overwrite directory ${target} with non-directory`);
    if (existing) fs.unlinkSync(target);
    if (st.isFile()) {
      fs.copyFileSync(abs, target, fs.constants.COPYFILE_EXCL);
    } else if (st.isSymbolicLink()) {
      fs.symlinkSync(fs.readlinkSync(abs), target);
    } else if (st.isFIFO() || st.isCharacterDevice() || st.isBlockDevice()) {
      const major = Number((BigInt(st.rdev) >> 8n) & 0xfffn);
      const minor = (st.rdev & 0xff) | Number((BigInt(st.rdev) >> 12n) & 0xfff00n);
      mknod(target, st.mode, major, minor);
    } else {
      return;
    }
  }
  if (keepIds) fs.lchownSync(target, st.uid, st.gid);
  if (!st.isSymbolicLink()) fs.chmodSync(target, st.mode & 0o7777);
  fs.lutimesSync(target, st.atime, st.mtime);
}

// ---------------------------------------------------------------- into the container

export interface CopyInOptions extends CopyOptions {
  container: string;
  /** host path, or '-' for a tar on `input` */
  src: string;
  dstPath: string;
  input?: Readable;
}

interface Source {
  type: 'file' | 'directory' | 'symlink' | 'hardlink' | 'chardev' | 'blockdev' | 'fifo';
  mode: number;
  uid: number;
  gid: number;
  mtime: Date;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  /** regular files: write the content to `fd` */
  write?: (fd: number) => Promise<void> | void;
}

/**
 * Copy into the container: writes go to its upper directory only (visible through a running overlay). The
 * destination is resolved inside the container's view (symlinks followed inside it, `..` clamped at its
 * root); directories on the way are copied up; no host path outside the upper directory is ever written.
 */
export async function copyToContainer(opts: CopyInOptions, ctx: Context): Promise<void> {
  const view = await openContainerView(ctx.root, opts.container);
  const opaque = ctx.rootful ? 'trusted.overlay.opaque' : 'user.overlay.opaque';
  const dstPath = containerPath(opts.dstPath);
  const resolved = resolveForWrite(view, dstPath, false);
  const keep = opts.archive ?? false;
  if (opts.src === '-') {
    if (!resolved.entry?.stat.isDirectory()) throw new TsdockError(`destination "${opts.container}:${opts.dstPath}" must be a directory`);
    const dirAbs = ensureUpperDirs(view, resolved.rel, opaque);
    await untarInto(view, dirAbs, resolved.rel, opts.input ?? process.stdin, keep, opaque, ctx.signal);
    return;
  }
  const src = path.resolve(ctx.cwd, opts.src);
  const sst = opts.followLink ? fs.statSync(src, { throwIfNoEntry: false }) : fs.lstatSync(src, { throwIfNoEntry: false });
  if (!sst) throw new NotFoundError(`lstat ${src}: no such file or directory`);
  const contents = wantsContents(opts.src) && sst.isDirectory();
  let rel: string[];
  if (resolved.entry?.stat.isDirectory()) {
    rel = contents ? resolved.rel : [...resolved.rel, path.basename(src)];
  } else if (resolved.entry) {
    if (sst.isDirectory()) throw new TsdockError(`cannot copy a directory to a file: ${opts.dstPath}`);
    rel = resolved.rel;
  } else {
    if (opts.dstPath.endsWith('/') && !sst.isDirectory()) throw new TsdockError(`no such directory: ${opts.dstPath}`);
    const parent = lookupImagePath(view.layers, `/${resolved.rel.slice(0, -1).join('/')}`);
    if (!parent?.stat.isDirectory()) throw new NotFoundError(`Could not find the file ${path.posix.dirname(dstPath)} in container ${opts.container}`);
    rel = resolved.rel;
  }
  if (rel.length === 0 && !sst.isDirectory()) throw new TsdockError('cannot overwrite the container root with a file');
  if (contents || rel.length === 0) {
    const dirAbs = ensureUpperDirs(view, rel, opaque);
    for (const name of fs.readdirSync(src).sort()) hostInto(view, dirAbs, rel, name, path.join(src, name), keep, opaque, ctx.signal);
    return;
  }
  const parentAbs = ensureUpperDirs(view, rel.slice(0, -1), opaque);
  hostInto(view, parentAbs, rel.slice(0, -1), rel[rel.length - 1]!, src, keep, opaque, ctx.signal, opts.followLink);
}

function hostInto(view: ContainerView, parentAbs: string, parentRel: string[], name: string, hostPath: string, keep: boolean, opaque: string, signal?: AbortSignal, follow = false): void {
  signal?.throwIfAborted();
  const st = follow ? fs.statSync(hostPath) : fs.lstatSync(hostPath);
  const common = { mode: st.mode & 0o7777, uid: keep ? st.uid : 0, gid: keep ? st.gid : 0, mtime: st.mtime };
  let source: Source;
  if (st.isDirectory()) source = { ...common, type: 'directory' };
  else if (st.isFile()) source = { ...common, type: 'file', write: (fd) => copyInto(hostPath, fd) };
  else if (st.isSymbolicLink()) source = { ...common, type: 'symlink', linkname: fs.readlinkSync(hostPath) };
  else if (st.isFIFO()) source = { ...common, type: 'fifo' };
  else return; // sockets and devices from the host are not copied
  const abs = place(view, parentAbs, parentRel, name, source, opaque);
  if (st.isDirectory()) for (const child of fs.readdirSync(hostPath).sort()) hostInto(view, abs, [...parentRel, name], child, path.join(hostPath, child), keep, opaque, signal);
  finishMeta(abs, source);
}

function copyInto(hostPath: string, fd: number): void {
  const src = fs.openSync(hostPath, 'r');
  try {
    const buf = Buffer.alloc(1 << 20);
    for (;;) {
      const n = fs.readSync(src, buf, 0, buf.length, null);
      if (n === 0) break;
      let off = 0;
      while (off < n) off += fs.writeSync(fd, buf, off, n - off);
    }
  } finally {
    fs.closeSync(src);
  }
}

/**
 * Create `name` in the upper directory `parentAbs` (a real directory: created or checked with lstat by us),
 * replacing what upper holds there (a whiteout, a file, a symlink: replaced, never followed). Returns its path.
 */
function place(view: ContainerView, parentAbs: string, parentRel: string[], name: string, s: Source, opaque: string): string {
  if (name === '' || name === '.' || name === '..' || name.includes('/')) throw new TsdockError(`invalid name ${JSON.stringify(name)}`);
  const target = path.join(parentAbs, name);
  const ex = fs.lstatSync(target, { throwIfNoEntry: false });
  const cpath = `/${[...parentRel, name].join('/')}`;
  if (s.type === 'directory') {
    if (ex?.isDirectory()) return target;
    const wasWhiteout = ex ? isWhiteoutStat(ex) : false;
    if (ex) fs.unlinkSync(target);
    fs.mkdirSync(target, { mode: 0o700 });
    // a directory replacing a whiteout must not show what lower layers had there
    if (wasWhiteout && view.driver === 'overlay') lsetxattr(target, opaque, Buffer.from('y'), 0);
    return target;
  }
  if (ex?.isDirectory()) throw new TsdockError(`cannot overwrite directory "${cpath}" with non-directory in the container`);
  if (ex) fs.unlinkSync(target);
  switch (s.type) {
    case 'file': {
      const fd = fs.openSync(target, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600);
      try {
        s.write?.(fd);
      } finally {
        fs.closeSync(fd);
      }
      break;
    }
    case 'symlink':
      fs.symlinkSync(s.linkname ?? '', target);
      break;
    case 'hardlink': {
      const link = s.linkname!;
      const st = fs.lstatSync(link);
      if (!st.isFile()) throw new TsdockError(`hardlink target of ${cpath} is not a regular file`);
      fs.linkSync(link, target);
      break;
    }
    case 'fifo':
      mknod(target, fs.constants.S_IFIFO | (s.mode & 0o7777));
      break;
    case 'chardev':
    case 'blockdev':
      mknod(target, (s.type === 'chardev' ? fs.constants.S_IFCHR : fs.constants.S_IFBLK) | (s.mode & 0o7777), s.devmajor ?? 0, s.devminor ?? 0);
      break;
  }
  return target;
}

function finishMeta(abs: string, s: Source): void {
  if (s.type === 'hardlink') return;
  fs.lchownSync(abs, s.uid, s.gid);
  if (s.type !== 'symlink') fs.chmodSync(abs, s.mode);
  fs.lutimesSync(abs, s.mtime, s.mtime);
}

async function untarInto(view: ContainerView, dirAbs: string, dirRel: string[], input: Readable, keep: boolean, opaque: string, signal?: AbortSignal): Promise<void> {
  const reader = new TarReader(new ByteSource(input));
  const dirs: Array<[string, Source]> = [];
  for (;;) {
    signal?.throwIfAborted();
    const e: TarEntry | undefined = await reader.next();
    if (!e) break;
    const rel = normalizeEntryPath(e.path);
    if (rel === '' || whiteoutOf(rel, e.path)) continue;
    const parts = rel.split('/');
    // parents: real directories of upper, created when missing; anything else on the way is refused
    let parentAbs = dirAbs;
    const parentRel = [...dirRel];
    for (const name of parts.slice(0, -1)) {
      const next = path.join(parentAbs, name);
      const ex = fs.lstatSync(next, { throwIfNoEntry: false });
      const cpath = `/${[...parentRel, name].join('/')}`;
      if (!ex || isWhiteoutStat(ex)) {
        const merged = ex ? undefined : lookupImagePath(view.layers, cpath, { followFinal: false });
        if (merged && !merged.stat.isDirectory()) throw new TsdockError(`refusing to extract ${e.path}: ${cpath} is not a directory in the container`);
        const dir: Source = merged ? { type: 'directory', mode: merged.stat.mode & 0o7777, uid: merged.stat.uid, gid: merged.stat.gid, mtime: merged.stat.mtime } : { type: 'directory', mode: 0o755, uid: 0, gid: 0, mtime: new Date() };
        place(view, parentAbs, parentRel, name, dir, opaque);
        finishMeta(next, dir);
      } else if (!ex.isDirectory()) {
        throw new TsdockError(`refusing to extract ${e.path}: ${cpath} is not a directory in the container`);
      }
      parentAbs = next;
      parentRel.push(name);
    }
    const name = parts[parts.length - 1]!;
    const common = { mode: e.mode & 0o7777, uid: keep ? e.uid : 0, gid: keep ? e.gid : 0, mtime: new Date(e.mtime * 1000) };
    let source: Source;
    if (e.type === 'file') {
      const chunks: Buffer[] = [];
      for await (const c of reader.body()) chunks.push(Buffer.from(c));
      const data = Buffer.concat(chunks);
      source = { ...common, type: 'file', write: (fd) => void fs.writeSync(fd, data) };
    } else if (e.type === 'hardlink') {
      const linkRel = normalizeEntryPath(e.linkpath, 'linkpath');
      // the link target must be a file this archive put in upper, reached through real directories only
      let at = dirAbs;
      for (const part of linkRel.split('/').slice(0, -1)) {
        at = path.join(at, part);
        if (!fs.lstatSync(at, { throwIfNoEntry: false })?.isDirectory()) throw new TsdockError(`refusing to extract hardlink ${e.path}: ${e.linkpath} is not inside the archive's directories`);
      }
      source = { ...common, type: 'hardlink', linkname: path.join(dirAbs, linkRel) };
    } else {
      source = { ...common, type: e.type, linkname: e.linkpath, devmajor: e.devmajor, devminor: e.devminor };
    }
    const abs = place(view, parentAbs, parentRel, name, source, opaque);
    if (source.type === 'directory') dirs.push([abs, source]);
    else finishMeta(abs, source);
  }
  for (const [abs, s] of dirs.reverse()) finishMeta(abs, s);
}

/** A container path, absolute. */
function containerPath(p: string): string {
  if (p === '') return '/';
  return p.startsWith('/') ? p : `/${p}`;
}
