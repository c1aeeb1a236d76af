import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { NotFoundError, TsdockError } from '../errors.js';
import { ByteSource } from '../storage/bytesource.js';
import { closeQuiet, openDirAt, reopenDir, resolveInRoot, type Resolved } from '../storage/fdwalk.js';
import { TarReader } from '../storage/tarreader.js';
import { normalizeEntryPath } from '../storage/tarpath.js';
import { whiteoutOf } from '../storage/whiteout.js';
import { copyFd } from './copy-out.js';
import { linkInto, openOrMakeDir, placeEntry, setDirMeta, type Source } from './fd-place.js';

export interface CopyInRequest {
  rootFd: number;
  dstPath: string;
  ref: string;
  /** -a: keep the source's uid/gid (else root:root in the container) */
  archive?: boolean;
  /** -L: follow a symlink named as the host source */
  followLink?: boolean;
  signal?: AbortSignal;
}

const wantsContents = (p: string) => p === '.' || p.endsWith('/.');

/** Docker resolves the destination fully (its final symlink too) inside the container's root. */
function resolveDest(req: CopyInRequest): Resolved {
  try {
    return resolveInRoot(req.rootFd, req.dstPath || '/', true);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new NotFoundError(`Could not find the file ${path.posix.dirname(path.posix.normalize(`/${req.dstPath}`))} in container ${req.ref}`);
    if (code === 'ELOOP') throw new TsdockError(`${req.dstPath} in container ${req.ref}: too many levels of symbolic links`);
    throw err;
  }
}

function openResolvedDir(r: Resolved): number {
  return r.name === '' ? reopenDir(r.dirFd) : openDirAt(r.dirFd, r.name);
}

/** `cp HOST CONTAINER:DST`: docker's rules (into an existing directory, onto a file, or as a new name). */
export async function copyHostIn(req: CopyInRequest, src: string, srcArg: string): Promise<void> {
  const sst = req.followLink ? fs.statSync(src, { throwIfNoEntry: false }) : fs.lstatSync(src, { throwIfNoEntry: false });
  if (!sst) throw new NotFoundError(`lstat ${src}: no such file or directory`);
  const contents = wantsContents(srcArg) && sst.isDirectory();
  const r = resolveDest(req);
  let parentFd: number | undefined;
  try {
    if (r.stat?.isDirectory()) {
      parentFd = openResolvedDir(r);
      if (contents) {
        for (const name of fs.readdirSync(src).sort()) hostInto(parentFd, name, path.join(src, name), req, false);
      } else hostInto(parentFd, path.basename(src), src, req, Boolean(req.followLink));
      return;
    }
    if (r.stat) {
      if (sst.isDirectory()) throw new TsdockError(`cannot copy a directory to a file: ${req.dstPath}`);
    } else if (req.dstPath.endsWith('/') && !sst.isDirectory()) {
      throw new TsdockError(`no such directory: ${req.dstPath}`);
    }
    hostInto(r.dirFd, r.name, src, req, Boolean(req.followLink));
  } finally {
    closeQuiet(parentFd);
    closeQuiet(r.dirFd);
  }
}

function hostInto(parentFd: number, name: string, hostPath: string, req: CopyInRequest, follow: boolean): void {
  req.signal?.throwIfAborted();
  const st = follow ? fs.statSync(hostPath) : fs.lstatSync(hostPath);
  const keep = Boolean(req.archive);
  const common = { mode: st.mode & 0o7777, uid: keep ? st.uid : 0, gid: keep ? st.gid : 0, mtime: st.mtime };
  let source: Source;
  if (st.isDirectory()) source = { ...common, type: 'directory' };
  else if (st.isFile()) {
    source = {
      ...common,
      type: 'file',
      write: (fd) => {
        const from = fs.openSync(hostPath, fs.constants.O_RDONLY | (follow ? 0 : fs.constants.O_NOFOLLOW));
        try {
          copyFd(from, fd);
        } finally {
          fs.closeSync(from);
        }
      },
    };
  } else if (st.isSymbolicLink()) source = { ...common, type: 'symlink', linkname: fs.readlinkSync(hostPath) };
  else if (st.isFIFO()) source = { ...common, type: 'fifo' };
  else return; // sockets and devices from the host are not copied
  const dirFd = placeEntry(parentFd, name, source);
  if (dirFd === undefined) return;
  try {
    for (const child of fs.readdirSync(hostPath).sort()) hostInto(dirFd, child, path.join(hostPath, child), req, false);
    setDirMeta(dirFd, source);
  } finally {
    closeQuiet(dirFd);
  }
}

/** `cp - CONTAINER:DIR`: extract a tar into an existing directory. */
export async function copyTarIn(req: CopyInRequest, input: Readable): Promise<void> {
  const r = resolveDest(req);
  let destFd: number | undefined;
  try {
    if (!r.stat?.isDirectory()) throw new TsdockError(`destination "${req.ref}:${req.dstPath}" must be a directory`);
    destFd = openResolvedDir(r);
    // an interrupted copy stops waiting for the rest of the stream
    const onAbort = () => input.destroy(req.signal?.reason instanceof Error ? req.signal.reason : new Error('interrupted'));
    req.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await untarInto(destFd, input, req);
    } finally {
      req.signal?.removeEventListener('abort', onAbort);
    }
  } finally {
    closeQuiet(destFd);
    closeQuiet(r.dirFd);
  }
}

async function untarInto(destFd: number, input: Readable, req: CopyInRequest): Promise<void> {
  const reader = new TarReader(new ByteSource(input));
  const keep = Boolean(req.archive);
  const dirs: Array<[string[], Source]> = [];
  for (;;) {
    req.signal?.throwIfAborted();
    const e = await reader.next();
    if (!e) break;
    const rel = normalizeEntryPath(e.path);
    if (rel === '' || whiteoutOf(rel, e.path)) continue;
    const parts = rel.split('/');
    const parentFd = openParents(destFd, parts.slice(0, -1), e.path);
    try {
      const name = parts[parts.length - 1]!;
      const common = { mode: e.mode & 0o7777, uid: keep ? e.uid : 0, gid: keep ? e.gid : 0, mtime: new Date(e.mtime * 1000) };
      if (e.type === 'hardlink') {
        linkInto(destFd, normalizeEntryPath(e.linkpath, 'linkpath').split('/'), parentFd, name, e.path);
        continue;
      }
      let source: Source;
      if (e.type === 'file') {
        const chunks: Buffer[] = [];
        for await (const c of reader.body()) chunks.push(Buffer.from(c));
        const data = Buffer.concat(chunks);
        source = { ...common, type: 'file', write: (fd) => void fs.writeSync(fd, data) };
      } else {
        source = { ...common, type: e.type, linkname: e.linkpath, devmajor: e.devmajor, devminor: e.devminor };
      }
      const dirFd = placeEntry(parentFd, name, source);
      if (dirFd !== undefined) {
        closeQuiet(dirFd);
        dirs.push([parts, source]);
      }
    } finally {
      if (parentFd !== destFd) closeQuiet(parentFd);
    }
  }
  // directories' own mode and times last (writing their children changed the mtime), reached again by fds
  for (const [parts, s] of dirs.reverse()) {
    let fd: number | undefined;
    try {
      fd = openParents(destFd, parts, parts.join('/'), false);
      setDirMeta(fd, s);
    } catch {
      // replaced meanwhile by a later entry: nothing to set
    } finally {
      if (fd !== undefined && fd !== destFd) closeQuiet(fd);
    }
  }
}

/** Open (creating missing ones 0755 root) the directories `parts` below `destFd`; anything else on the way is refused. */
function openParents(destFd: number, parts: string[], entry: string, create = true): number {
  let fd = destFd;
  for (const name of parts) {
    let next: number;
    try {
      next = openOrMakeDir(fd, name, create);
    } catch (err) {
      if (fd !== destFd) closeQuiet(fd);
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOTDIR' || code === 'ELOOP' || code === 'EEXIST') throw new TsdockError(`refusing to extract ${entry}: ${name} is not a directory in the container`);
      throw err;
    }
    if (fd !== destFd) closeQuiet(fd);
    fd = next;
  }
  return fd;
}
