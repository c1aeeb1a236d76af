import fs from 'node:fs';
import type { Readable } from 'node:stream';
import { TsdockError, errorMessage } from '../errors.js';
import { ByteSource } from './bytesource.js';
import { Extractor, type ExtractCounters } from './extract.js';
import { LayerTree } from './layertree.js';
import { normalizeEntryPath } from './tarpath.js';
import { TarReader, type TarEntry } from './tarreader.js';
import { TarLayoutRecorder } from './tar-layout.js';
import { AUFS_META_PREFIX, whiteoutOf, type WhiteoutFormat } from './whiteout.js';

export interface UnpackOptions {
  /** rootful: 0/0 char devices + trusted.overlay.opaque=y; rootless: 0/0 char devices + user.overlay.opaque=y */
  whiteouts: WhiteoutFormat;
  /** ownership translation (rootless subuid mapping); default identity */
  idMap?: (uid: number, gid: number) => { uid: number; gid: number };
  /** false when we cannot chown (unprivileged without a userns): files stay ours and ids are dropped */
  chown: boolean;
  signal?: AbortSignal;
  /** record the tar's layout (tar-layout.ts) into this file, to rebuild the tar byte for byte later */
  layoutFile?: string;
}

export interface UnpackStats extends ExtractCounters {
  /** file-system entries in the archive (whiteouts included, pax/GNU extension headers not) */
  entries: number;
  /** sum of regular file sizes */
  bytes: number;
  /** device nodes not created for lack of CAP_MKNOD */
  skippedDevices: number;
  /** xattrs not set: overlay's own (never taken from a layer) or refused as expected (see extract.ts) */
  skippedXattrs: number;
}

/**
 * Unpack a layer tar (already decompressed) into `destDir`, an existing empty directory, with whiteouts
 * converted to overlayfs form. Nothing is written outside `destDir`: escaping paths, writes through
 * symlinks and hardlinks to outside or missing targets throw UnsafeArchiveError. On any error the stream
 * is destroyed and the error thrown; the caller removes `destDir`. On success the whole stream has been
 * read, so a hash computed upstream covers every byte.
 */
export async function unpackLayer(tarStream: Readable, destDir: string, opts: UnpackOptions): Promise<UnpackStats> {
  const src = new ByteSource(tarStream);
  const stats: UnpackStats = { entries: 0, bytes: 0, skippedDevices: 0, skippedXattrs: 0, opaqueDirs: [] };
  let entry: TarEntry | undefined;
  // an abort also ends a wait for the next chunk of a stalled stream
  const onAbort = () => tarStream.destroy(opts.signal?.reason);
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  const layout = opts.layoutFile ? new TarLayoutRecorder(opts.layoutFile) : undefined;
  try {
    assertEmptyDir(destDir);
    const reader = new TarReader(src, layout);
    const tree = new LayerTree(destDir);
    const extractor = new Extractor(tree, opts, stats);
    for (;;) {
      opts.signal?.throwIfAborted();
      entry = await reader.next();
      if (!entry) break;
      stats.entries++;
      const writing = extractEntry(extractor, reader, entry);
      if (writing) await writing; // only a file's body is asynchronous
    }
    entry = undefined;
    dropAufsMeta(tree);
    extractor.finish();
    await layout?.finish();
    return stats;
  } catch (err) {
    layout?.abort();
    await src.close().catch(() => {});
    throw withContext(err, entry, opts.signal);
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }
}

function extractEntry(extractor: Extractor, reader: TarReader, e: TarEntry): Promise<void> | void {
  const rel = normalizeEntryPath(e.path);
  // the layer root itself (".", "/"): ignored, as containerd does; its mode is the store's business
  if (rel === '') return;
  const whiteout = whiteoutOf(rel, e.path);
  if (whiteout) return extractor.whiteout(whiteout, e);
  switch (e.type) {
    case 'file':
      return extractor.file(e, rel, reader.body());
    case 'directory':
      return extractor.directory(e, rel);
    case 'symlink':
      return extractor.symlink(e, rel);
    case 'hardlink':
      return extractor.hardlink(e, rel);
    case 'chardev':
    case 'blockdev':
    case 'fifo':
      return extractor.node(e, rel);
  }
}

/**
 * Layers exported from docker's old aufs driver carry `.wh..wh.plnk/` (hardlink targets: kept while
 * unpacking so links to them resolve, the links survive) and other `.wh..wh.*` bookkeeping at the root.
 */
function dropAufsMeta(tree: LayerTree): void {
  for (const name of fs.readdirSync(tree.root)) if (name.startsWith(AUFS_META_PREFIX)) tree.remove(name);
}

function assertEmptyDir(dir: string): void {
  const st = fs.statSync(dir);
  if (!st.isDirectory()) throw new TsdockError(`cannot unpack a layer into ${dir}: not a directory`);
  if (fs.readdirSync(dir).length > 0) throw new TsdockError(`cannot unpack a layer into ${dir}: the directory is not empty`);
}

/** Our own errors and aborts pass through; anything else (fs, sys) gets the entry it happened on. */
function withContext(err: unknown, entry: TarEntry | undefined, signal: AbortSignal | undefined): unknown {
  if (err instanceof TsdockError || (signal?.aborted && err === signal.reason) || !entry) return err;
  return new TsdockError(`unpacking layer entry ${JSON.stringify(entry.path)}: ${errorMessage(err)}`, { cause: err });
}
