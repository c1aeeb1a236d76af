/**
 * load's image work: the archive (gzip'd, zstd'd or plain) unpacked by node-tar into a private directory of the
 * store's tmp/, every layer hashed (its blob against its name, its tar against the config's diff_id, a
 * compressed one decompressed into tmp/ on the way), and only when all of them matched are the layers
 * imported and the images recorded. A failure leaves nothing: the directory goes, no image was recorded.
 */
import { imageEvent } from '../events.js';
import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { IntegrityError, TsdockError, cleanupFailed, errorMessage } from '../../errors.js';
import type { Context } from '../../context.js';
import { acquireLock } from '../../state/lock.js';
import { decompressStream, sniffCompression } from '../../storage/decompress.js';
import { makeTmpDir, removeTree } from '../../storage/tmp.js';
import { importLayerTar, recordImage } from '../commit-image.js';
import { DigestVerifier } from '../digest.js';
import type { ImageStore } from '../store/images.js';
import type { LayerRef } from '../store/types.js';
import { nodeTar } from './node-tar.js';
import { memberPath, readArchive, type ArchiveImage } from './read.js';

export interface LoadedImage {
  id: string;
  /** full references */
  tags: string[];
}

interface VerifiedLayer {
  /** the uncompressed tar */
  path: string;
  diffId: string;
  size: number;
}

export async function loadArchive(store: ImageStore, input: Readable, where: string, ctx: Context): Promise<LoadedImage[]> {
  const work = await makeTmpDir(store.root, 'load');
  try {
    const dir = path.join(work, 'archive');
    await fs.promises.mkdir(dir);
    await unpackOuter(input, dir, where, ctx);
    const images = await readArchive(dir, where);
    if (images.length === 0) throw new IntegrityError(`${where}: the archive holds no image`);
    // 1. every layer verified before anything is committed
    const verified = new Map<string, VerifiedLayer>();
    for (const img of images) {
      for (const [i, layer] of img.layers.entries()) {
        const diffId = img.config.rootfs.diff_ids[i]!;
        const key = `${layer.file} ${diffId}`;
        if (!verified.has(key)) verified.set(key, await verifyLayer(dir, work, layer.file, layer.digest, diffId, verified.size, where, ctx));
      }
    }
    // 2. layers, then images; layers.lock held shared so GC cannot take a layer before its image is recorded
    const lock = await acquireLock(store.lockPath('layers'), 'shared');
    try {
      const out: LoadedImage[] = [];
      for (const img of images) out.push(await commitImage(store, img, verified, ctx));
      for (const img of out) imageEvent(store.root, 'load', img.id, img.tags[0] ?? img.id);
      return out;
    } finally {
      lock.release();
    }
  } finally {
    await removeTree(work).catch(cleanupFailed(ctx, `remove ${work}`));
  }
}

async function unpackOuter(input: Readable, dir: string, where: string, ctx: Context): Promise<void> {
  const tar = nodeTar();
  // regular files, directories and (old docker-archive's shared layers) symlinks, read later only inside `dir`
  const kinds = new Set(['File', 'OldFile', 'ContiguousFile', 'Directory', 'SymbolicLink']);
  const unpack = tar.x({ cwd: dir, strict: true, preserveOwner: false, filter: (_p, entry) => kinds.has((entry as { type?: string }).type ?? '') });
  try {
    await pipeline(input, decompressStream('auto'), unpack as unknown as NodeJS.WritableStream, ctx.signal ? { signal: ctx.signal } : {});
  } catch (err) {
    if (err instanceof TsdockError || ctx.signal?.aborted) throw err;
    throw new IntegrityError(`${where}: not a readable image archive: ${errorMessage(err)}`, { cause: err });
  }
}

/** One layer hashed (and decompressed when it is compressed); refused unless both digests match. */
async function verifyLayer(dir: string, work: string, file: string, blobDigest: string | undefined, diffId: string, n: number, where: string, ctx: Context): Promise<VerifiedLayer> {
  const src = memberPath(dir, file, where);
  const compressed = await isCompressed(src);
  const blob = new DigestVerifier({ what: `${where}: layer ${file}`, expected: blobDigest });
  const tar = new DigestVerifier({ what: `${where}: layer ${file} (its diff_id)`, expected: diffId });
  const target = compressed ? path.join(work, `layer-${n}.tar`) : undefined;
  const opts = ctx.signal ? { signal: ctx.signal } : {};
  const sink = target ? fs.createWriteStream(target, { mode: 0o600 }) : devNull();
  try {
    await pipeline(fs.createReadStream(src, { highWaterMark: 1 << 20 }), blob, decompressStream(compressed ? 'auto' : 'none'), tar, sink, opts);
  } catch (err) {
    const mismatch = err instanceof IntegrityError ? /^digest mismatch for .*(expected \S+, got \S+)$/.exec(err.message) : null;
    if (mismatch) throw new IntegrityError(`${where}: layer ${file} was tampered with: ${mismatch[1]}`, { cause: err });
    throw err;
  }
  return { path: target ?? src, diffId, size: tar.bytes };
}

async function isCompressed(file: string): Promise<boolean> {
  const fh = await fs.promises.open(file, 'r');
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await fh.read(head, 0, 4, 0);
    return sniffCompression(head.subarray(0, bytesRead), true) !== 'none';
  } finally {
    await fh.close();
  }
}

function devNull(): NodeJS.WritableStream {
  return fs.createWriteStream('/dev/null');
}

async function commitImage(store: ImageStore, img: ArchiveImage, verified: Map<string, VerifiedLayer>, ctx: Context): Promise<LoadedImage> {
  const layers: LayerRef[] = [];
  for (const [i, layer] of img.layers.entries()) {
    const v = verified.get(`${layer.file} ${img.config.rootfs.diff_ids[i]}`)!;
    layers.push(await importLayerTar(store, v, layers, ctx));
  }
  const id = await recordImage(store, img.config, layers, img.tags, { configBytes: img.configBytes });
  return { id, tags: img.tags };
}
