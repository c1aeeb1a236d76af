/**
 * COPY/ADD's entries: what lands where, with which metadata. Sources are walked (a directory's contents go to
 * its destination). Owners are `--chown`'s, else 0:0 from the context (docker's rule) and the source's own with
 * `--from`; modes are `--chmod`'s, else the source's; mtimes the source's (clamped to SOURCE_DATE_EPOCH when
 * given). Parent directories the image lacks are added as 0755 root; those it has keep their metadata (the
 * layer's copy of a directory decides its attributes).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { SourceRecord } from './cache-key.js';
import type { SourceFs } from './source-fs.js';
import type { SourceEntry } from './source-fs.js';

export interface CopyItem {
  /** absolute path in the image */
  readonly dest: string;
  readonly type: 'file' | 'directory' | 'symlink';
  readonly mode: number;
  readonly uid: number;
  readonly gid: number;
  readonly mtime: number;
  readonly size: number;
  readonly linkname?: string;
  /** a file's bytes: a host path or the content itself */
  readonly body?: string | Buffer;
}

export interface Owner {
  readonly uid: number;
  readonly gid: number;
}

export interface ItemOptions {
  readonly owner?: Owner;
  /** keep the source's owners when no --chown is given (COPY --from a stage or image, as docker and buildah do) */
  readonly preserveOwner?: boolean;
  readonly chmod?: number;
  readonly epoch?: number;
}

const mtimeOf = (st: fs.Stats, epoch?: number): number => {
  const t = Math.floor(st.mtimeMs / 1000);
  return epoch === undefined ? t : Math.min(t, epoch);
};

/** One source entry (and, for a directory, everything below it) landing at `dest`. */
export function walkItems(src: SourceFs, rel: string, entry: SourceEntry, dest: string, opts: ItemOptions, out: CopyItem[], top = true): void {
  const st = entry.stat;
  const owner = opts.owner ?? (opts.preserveOwner ? { uid: st.uid, gid: st.gid } : { uid: 0, gid: 0 });
  const mode = opts.chmod ?? st.mode & 0o7777;
  const base = { dest, uid: owner.uid, gid: owner.gid, mtime: mtimeOf(st, opts.epoch) };
  if (st.isDirectory()) {
    // a directory source's contents are what is copied: a destination made for them is 0755 (--chmod's mode,
    // --chown's owner, else root), as BuildKit and buildah make it; the directories below keep their own
    if (top && dest !== '/') out.push({ ...base, ...(opts.owner ? {} : { uid: 0, gid: 0 }), type: 'directory', mode: opts.chmod ?? 0o755, size: 0 });
    else if (!top) out.push({ ...base, type: 'directory', mode: opts.chmod ?? st.mode & 0o7777, size: 0 });
    for (const name of src.list(rel) ?? []) {
      const childRel = rel === '' ? name : `${rel}/${name}`;
      const child = src.lookup(childRel, false);
      if (child) walkItems(src, childRel, child, path.posix.join(dest, name), opts, out, false);
    }
  } else if (st.isFile()) {
    out.push({ ...base, type: 'file', mode, size: st.size, body: entry.hostPath });
  } else if (st.isSymbolicLink()) {
    out.push({ ...base, type: 'symlink', mode: 0o777, size: 0, linkname: fs.readlinkSync(entry.hostPath) });
  }
  // devices, fifos and sockets are not copied (docker's COPY skips what it cannot archive from a context)
}

/** A heredoc (or fetched) file's item. */
export function contentItem(dest: string, content: Buffer, opts: ItemOptions & { defaultMode: number; mtime: number }): CopyItem {
  const owner = opts.owner ?? { uid: 0, gid: 0 };
  return { dest, type: 'file', mode: opts.chmod ?? opts.defaultMode, uid: owner.uid, gid: owner.gid, mtime: opts.mtime, size: content.length, body: content };
}

/** The parent directories of every item that no item provides: the image's (metadata kept) or new 0755 root ones. */
export function parentItems(items: readonly CopyItem[], image: (p: string) => fs.Stats | undefined, mtime: number): CopyItem[] {
  const have = new Set(items.map((i) => i.dest));
  const out = new Map<string, CopyItem>();
  for (const item of items) {
    for (let p = path.posix.dirname(item.dest); p !== '/' && !have.has(p) && !out.has(p); p = path.posix.dirname(p)) {
      const st = image(p);
      out.set(p, st?.isDirectory()
        ? { dest: p, type: 'directory', mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: Math.floor(st.mtimeMs / 1000), size: 0 }
        : { dest: p, type: 'directory', mode: 0o755, uid: 0, gid: 0, mtime, size: 0 });
    }
  }
  return [...out.values()];
}

/** Sorted by path, parents first; a later item for the same path replaces an earlier one (the last source wins). */
export function orderItems(items: readonly CopyItem[]): CopyItem[] {
  const byDest = new Map<string, CopyItem>();
  for (const i of items) byDest.set(i.dest, i);
  return [...byDest.values()].sort((a, b) => cmpPath(a.dest, b.dest));
}

/** Component-wise path order: `a/b` before `a-c` would break parents-first, so compare segment by segment. */
export function cmpPath(a: string, b: string): number {
  const x = a.split('/');
  const y = b.split('/');
  for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! < y[i]! ? -1 : 1;
  return x.length - y.length;
}

/** The items' cache identity: content digests, modes, owners, link targets; never mtimes or host paths. */
export function sourceRecords(items: readonly CopyItem[]): SourceRecord[] {
  return items.map((i) => {
    let content: string | undefined;
    if (i.type === 'symlink') content = i.linkname;
    else if (i.type === 'file') content = typeof i.body === 'string' ? fileSha256(i.body) : crypto.createHash('sha256').update(i.body ?? Buffer.alloc(0)).digest('hex');
    return { dest: i.dest, type: i.type, mode: i.mode, uid: i.uid, gid: i.gid, ...(content !== undefined ? { content } : {}) };
  });
}

/** A context file's sha256 (hex), read 1 MiB at a time: a large file is never held whole in memory. */
function fileSha256(file: string): string {
  const hash = crypto.createHash('sha256');
  const buf = Buffer.allocUnsafe(1 << 20);
  const fd = fs.openSync(file, 'r');
  try {
    for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0; ) hash.update(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest('hex');
}
