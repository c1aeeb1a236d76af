/**
 * import's image work: a root file system tarball (plain, gzip or zstd) → a one-layer image. The tarball is
 * decompressed into the store's tmp/ (hashed on the way: its diff_id), imported as a layer, and recorded with a
 * config of the host's (or the given) platform, the `-c` changes and one history entry.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { TsdockError, cleanupFailed, errorMessage } from '../errors.js';
import type { Context } from '../context.js';
import { acquireLock } from '../state/lock.js';
import { imageEvent } from './events.js';
import { decompressStream } from '../storage/decompress.js';
import { makeTmpDir, removeTree } from '../storage/tmp.js';
import { importLayerTar, recordImage } from './commit-image.js';
import type { Change } from './config-change.js';
import { DigestVerifier } from './digest.js';
import type { ContainerConfig, ImageConfig, Platform } from './manifest.js';
import type { ImageStore } from './store/images.js';

export interface RootfsImport {
  input: Readable;
  /** for messages and the default history comment: the file, URL or "-" */
  source: string;
  platform: Platform;
  changes: Change[];
  message?: string;
  /** full reference to tag the image with */
  tag?: string;
}

export async function importRootfs(store: ImageStore, req: RootfsImport, ctx: Context): Promise<string> {
  const work = await makeTmpDir(store.root, 'import');
  try {
    // 1. the tarball, decompressed and hashed into tmp/
    const tarPath = path.join(work, 'layer.tar');
    const hash = new DigestVerifier({ what: `tarball ${req.source}` });
    try {
      await pipeline(req.input, decompressStream('auto'), hash, fs.createWriteStream(tarPath, { mode: 0o600 }), ctx.signal ? { signal: ctx.signal } : {});
    } catch (err) {
      if (err instanceof TsdockError || ctx.signal?.aborted) throw err;
      throw new TsdockError(`reading ${req.source}: ${errorMessage(err)}`, { cause: err });
    }
    // 2. the layer, held shared until the image is recorded
    const lock = await acquireLock(store.lockPath('layers'), 'shared');
    try {
      const layer = await importLayerTar(store, { path: tarPath, diffId: hash.digest, size: hash.bytes }, [], ctx);
      // 3. config and index entry
      const id = await recordImage(store, importedConfig(req, hash.digest), [layer], req.tag);
      imageEvent(store.root, 'import', id, req.tag ?? id);
      return id;
    } finally {
      lock.release();
    }
  } finally {
    await removeTree(work).catch(cleanupFailed(ctx, `remove ${work}`));
  }
}

/** docker's imported config: the platform, the changes, one history entry commented with -m or the source. */
export function importedConfig(req: Pick<RootfsImport, 'platform' | 'changes' | 'message' | 'source'>, diffId: string, created = new Date().toISOString()): ImageConfig {
  const cfg: ContainerConfig = {};
  for (const apply of req.changes) apply(cfg);
  return {
    created,
    architecture: req.platform.architecture,
    os: req.platform.os,
    ...(req.platform.variant ? { variant: req.platform.variant } : {}),
    config: cfg,
    rootfs: { type: 'layers', diff_ids: [diffId] },
    history: [{ created, comment: req.message ?? `Imported from ${req.source}` }],
  };
}
