import fs from 'node:fs';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { NotFoundError, TsdockError } from '../errors.js';
import { closeQuiet, openDirAt, resolveInRoot, type Resolved } from '../storage/fdwalk.js';
import { tarVisitor, walkChild, walkDirFd, type TreeVisitor } from '../storage/fdtree.js';
import { TarWriter } from '../storage/tarwriter.js';
import { mknod } from '../sys/index.js';

export interface CopyOutRequest {
  /** the container's root (withContainerRoot) */
  rootFd: number;
  /** what the user wrote after `CONTAINER:` */
  srcPath: string;
  /** how the container is named in messages */
  ref: string;
  /** -L: follow a symlink named as the source (else the link itself is copied, as docker does) */
  followLink?: boolean;
  /** -a: keep uid/gid on the host */
  archive?: boolean;
  signal?: AbortSignal;
}

const wantsContents = (p: string) => p === '.' || p.endsWith('/.');

/** Resolve the source: every directory on the way inside the container's root; the final symlink only with -L or a trailing `/`. */
function resolveSource(req: CopyOutRequest): Resolved {
  const follow = Boolean(req.followLink) || req.srcPath.endsWith('/') || wantsContents(req.srcPath);
  let r: Resolved;
  try {
    r = resolveInRoot(req.rootFd, req.srcPath || '/', follow);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new NotFoundError(`Could not find the file ${req.srcPath} in container ${req.ref}`);
    if (code === 'ELOOP') throw new TsdockError(`${req.srcPath} in container ${req.ref}: too many levels of symbolic links`);
    throw err;
  }
  if (!r.stat) {
    closeQuiet(r.dirFd);
    throw new NotFoundError(`Could not find the file ${req.srcPath} in container ${req.ref}`);
  }
  if (req.srcPath.endsWith('/') && !r.stat.isDirectory()) {
    closeQuiet(r.dirFd);
    throw new TsdockError(`${req.srcPath}: not a directory`);
  }
  return r;
}

/** Walk the source as `name` (a directory's contents only when `name` is ''). */
async function walkSource(r: Resolved, name: string, v: TreeVisitor, signal?: AbortSignal): Promise<void> {
  if (r.name === '') return walkDirFd(r.dirFd, name, v, signal);
  if (name === '' && r.stat!.isDirectory()) {
    const fd = openDirAt(r.dirFd, r.name);
    try {
      return await walkDirFd(fd, '', v, signal);
    } finally {
      closeQuiet(fd);
    }
  }
  return walkChild(r.dirFd, r.name, name, v, signal);
}

/** `cp CONTAINER:SRC -`: a tar of the source on `out`, named by its base name (contents only for `SRC/.`). */
export async function copyOutToTar(req: CopyOutRequest, out: Writable): Promise<void> {
  const r = resolveSource(req);
  try {
    const contents = wantsContents(req.srcPath) && r.stat!.isDirectory();
    const base = r.name === '' || contents ? '' : path.posix.basename(path.posix.normalize(`/${req.srcPath}`).replace(/\/+$/, '')) || r.name;
    const tar = new TarWriter(out);
    await walkSource(r, base, tarVisitor(tar), req.signal);
    await tar.finish();
  } finally {
    closeQuiet(r.dirFd);
  }
}

/** `cp CONTAINER:SRC DEST`: docker's destination rules (into an existing directory, onto a file, or a new name). */
export async function copyOutToHost(req: CopyOutRequest, dest: string, destArg: string): Promise<void> {
  const r = resolveSource(req);
  try {
    const isDir = r.stat!.isDirectory();
    const contents = wantsContents(req.srcPath) && isDir;
    const base = path.posix.basename(path.posix.normalize(`/${req.srcPath}`).replace(/\/+$/, '')) || '/';
    const dst = fs.statSync(dest, { throwIfNoEntry: false });
    let target: string;
    if (dst?.isDirectory()) {
      target = contents || base === '/' ? dest : path.join(dest, base);
    } else if (dst) {
      if (isDir) throw new TsdockError(`cannot copy a directory to a file: ${destArg}`);
      target = dest;
    } else {
      if (destArg.endsWith('/') && !isDir) throw new TsdockError(`no such directory: ${destArg}`);
      const parent = fs.statSync(path.dirname(dest), { throwIfNoEntry: false });
      if (!parent?.isDirectory()) throw new TsdockError(`no such directory: ${path.dirname(dest)}`);
      target = dest;
    }
    const into = contents || r.name === '';
    if (into) fs.mkdirSync(target, { recursive: true });
    await walkSource(r, into ? '' : '.', hostWriter(target, Boolean(req.archive)), req.signal);
  } finally {
    closeQuiet(r.dirFd);
  }
}

/**
 * Writes what the walk reports under the host directory `target` (the source itself is named '.' = `target`).
 * The host side is the user's own: plain paths, an existing entry replaced (never written through).
 */
function hostWriter(target: string, keepIds: boolean): TreeVisitor {
  const where = (name: string) => (name === '.' ? target : path.join(target, name.replace(/^\.\//, '')));
  const prepare = (abs: string, dir: boolean) => {
    const ex = fs.lstatSync(abs, { throwIfNoEntry: false });
    if (dir) {
      if (ex && !ex.isDirectory()) fs.unlinkSync(abs);
      if (!ex?.isDirectory()) fs.mkdirSync(abs, { mode: 0o700 });
      return;
    }
    if (ex?.isDirectory()) throw new TsdockError(`cannot overwrite directory ${abs} with non-directory`);
    if (ex) fs.unlinkSync(abs);
  };
  const meta = (abs: string, st: fs.Stats, link = false) => {
    if (keepIds) fs.lchownSync(abs, st.uid, st.gid);
    if (!link) fs.chmodSync(abs, st.mode & 0o7777);
    fs.lutimesSync(abs, st.atime, st.mtime);
  };
  return {
    dir: (name) => prepare(where(name), true),
    dirDone: (name, st) => meta(where(name), st),
    file: (name, st, fd) => {
      const abs = where(name);
      prepare(abs, false);
      const out = fs.openSync(abs, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600);
      try {
        copyFd(fd, out);
      } finally {
        fs.closeSync(out);
      }
      meta(abs, st);
    },
    symlink: (name, st, linkTarget) => {
      const abs = where(name);
      prepare(abs, false);
      fs.symlinkSync(linkTarget, abs);
      meta(abs, st, true);
    },
    special: (name, st) => {
      const abs = where(name);
      prepare(abs, false);
      const major = Number((BigInt(st.rdev) >> 8n) & 0xfffn);
      const minor = (st.rdev & 0xff) | Number((BigInt(st.rdev) >> 12n) & 0xfff00n);
      mknod(abs, st.mode, major, minor);
      meta(abs, st);
    },
  };
}

export function copyFd(from: number, to: number): void {
  const buf = Buffer.alloc(1 << 20);
  for (;;) {
    const n = fs.readSync(from, buf, 0, buf.length, null);
    if (n === 0) return;
    let off = 0;
    while (off < n) off += fs.writeSync(to, buf, off, n - off);
  }
}
