import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { IntegrityError, TsdockError, suppressInto } from '../errors.js';
import { decompressStream } from '../storage/decompress.js';
import { unpackLayer, type UnpackOptions } from '../storage/unpack.js';
import { removeTree } from '../storage/tmp.js';
import { TAR_LAYOUT_FILE } from '../storage/tar-layout.js';
import type { LayerStore } from '../storage/layers.js';
import type { RegistryClient } from './registry/client.js';
import { layerCompression } from './manifest.js';

/** What the image config says a layer is (its diff_id and the chain ids): known once the config arrived. */
export interface LayerIdentity {
  diffId: string;
  chainId: string;
  parent: string | undefined;
}

export interface LayerJob {
  digest: string;
  mediaType: string;
  size: number;
  /** awaited only to verify and name the layer, so the download can start before the config is in */
  identity: Promise<LayerIdentity>;
}

export type LayerProgress = (phase: 'downloading' | 'extracting' | 'verifying' | 'complete', current?: number, total?: number) => void;

/** Hashes and counts what flows through, reporting progress at most every 100 ms. */
class Meter extends Transform {
  readonly hash = crypto.createHash('sha256');
  bytes = 0;
  private last = 0;
  constructor(
    private readonly onBytes?: (n: number) => void,
    /** an fd the bytes are also written to (the layer's compressed blob, kept for push) */
    private readonly sink?: number,
  ) {
    // 1 MiB buffers: the default 16 KiB costs per-chunk overhead on every layer byte
    super({ highWaterMark: 1 << 20 });
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    this.hash.update(chunk);
    if (this.sink !== undefined) fs.writeSync(this.sink, chunk);
    this.bytes += chunk.length;
    const now = Date.now();
    if (this.onBytes && now - this.last > 100) {
      this.last = now;
      this.onBytes(this.bytes);
    }
    cb(null, chunk);
  }
  digest(): string {
    return `sha256:${this.hash.digest('hex')}`;
  }
}

/**
 * One pass per layer: download → sha256 of the compressed bytes → decompress → sha256 of the tar (diffID)
 * → unpack into a private work dir. Only when both digests match is the directory renamed into the layer
 * store; on any failure the work dir is removed and nothing becomes visible.
 */
export async function fetchLayer(
  client: RegistryClient,
  store: LayerStore,
  job: LayerJob,
  unpack: Omit<UnpackOptions, 'signal'>,
  progress: LayerProgress,
  signal?: AbortSignal,
): Promise<{ chainId: string; size: number }> {
  // the request goes out first: the work dir and the whole chain the bytes go through (hashes, decompression,
  // the unpack waiting for its first header) are made while the registry answers
  const response = client.getBlob(job.digest);
  response.catch(() => {}); // observed below; not unhandled while the work dir is made
  let prepared: { work: string; diff: string };
  try {
    prepared = await store.prepare();
  } catch (err) {
    await response.then(({ stream }) => stream.destroy(), () => {});
    throw err;
  }
  const { work, diff } = prepared;
  let blobFd: number | undefined;
  try {
    blobFd = fs.openSync(path.join(work, 'blob'), 'w', 0o600);
    const compressed = new Meter((n) => progress('downloading', n, job.size), blobFd);
    const tar = new Meter();
    const tail = pipeline(compressed, decompressStream(layerCompression(job.mediaType)), tar, signal ? { signal } : {});
    const extract = unpackLayer(tar, diff, { ...unpack, signal, layoutFile: path.join(work, TAR_LAYOUT_FILE) });
    tail.catch(() => {});
    extract.catch(() => {});
    const stop = async () => {
      compressed.destroy();
      tar.destroy();
      await Promise.allSettled([tail, extract]); // the unpack is done with the work dir before it is removed
    };
    let stream: Readable;
    try {
      ({ stream } = await response);
    } catch (err) {
      await stop();
      throw err;
    }
    let stats;
    try {
      progress('downloading', 0, job.size);
      const head = pipeline(stream, compressed, signal ? { signal } : {});
      head.catch(() => {});
      [, , stats] = await Promise.all([head, tail, extract]);
    } catch (err) {
      stream.destroy();
      await stop();
      // a corrupt blob often surfaces first as a decompression error: when every byte arrived, name the real cause
      if (compressed.bytes === job.size && compressed.digest() !== job.digest) {
        throw new IntegrityError(`digest mismatch for layer ${job.digest}: the registry sent content that does not match`, { cause: err });
      }
      if (err instanceof TsdockError) throw err;
      throw new TsdockError(`layer ${job.digest}: ${(err as Error).message}`, { cause: err });
    }
    fs.closeSync(blobFd);
    blobFd = undefined;
    progress('verifying', compressed.bytes, job.size);
    const got = compressed.digest();
    if (got !== job.digest) throw new IntegrityError(`digest mismatch for layer ${job.digest}: the registry sent content hashing to ${got}`);
    const diffId = tar.digest();
    const id = await job.identity;
    if (diffId !== id.diffId) throw new IntegrityError(`layer ${job.digest} unpacks to ${diffId}, but the image config expects diff_id ${id.diffId}`);
    await store.commit(work, {
      chainId: id.chainId,
      diffId: id.diffId,
      parent: id.parent,
      size: stats.bytes,
      digest: job.digest,
      mediaType: job.mediaType,
      createdAt: new Date().toISOString(),
      opaqueDirs: stats.opaqueDirs.map((d) => (d === '.' ? '' : d.replace(/^\.?\/+|\/+$/g, ''))),
    });
    progress('complete');
    return { chainId: id.chainId, size: stats.bytes };
  } catch (err) {
    if (blobFd !== undefined) fs.closeSync(blobFd);
    await removeTree(work).catch(suppressInto(err));
    throw err;
  }
}
