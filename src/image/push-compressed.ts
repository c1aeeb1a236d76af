/**
 * One layer of a push that is not kept compressed (a committed or built layer's uncompressed blob, or a layer
 * kept only as diff/ + tar-layout.gz): its tar gzip'd while it streams to the registry, in PATCH chunks of
 * STREAM_CHUNK bytes (the one buffer held: never the whole layer), the digest known only at the closing PUT. gzip of the
 * same tar gives the same bytes, so a session a killed push left open is continued: the blob is made again from
 * the start, hashed whole, and only what the registry lacks is sent.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import { readJson } from '../state/atomic.js';
import { TsdockError } from '../errors.js';
import type { RegistryClient } from './registry/client.js';
import { chunkSize } from './registry/upload.js';
import { MONOLITHIC_MAX, remember } from './push-blob.js';

/** A streamed layer's chunk: the buffer each parallel upload holds (push-blob's CHUNK would be 16 MiB each). */
export const STREAM_CHUNK = 8 * 1024 * 1024;

export interface StreamedLayer {
  /** the layer's diff id: names the upload session and the messages */
  diffId: string;
  /** the layer's tar, made afresh on each call */
  tar: () => Readable;
}

export interface PushCompressedOptions {
  sessionDir: string;
  progress?: (current: number) => void;
  chunk?: number;
  monolithicMax?: number;
}

/** → the gzip blob's digest and size, as the registry now has it. */
export async function pushCompressed(client: RegistryClient, layer: StreamedLayer, opts: PushCompressedOptions, retried = false): Promise<{ digest: string; size: number }> {
  const up = client.uploads();
  const sessionFile = path.join(opts.sessionDir, `${crypto.createHash('sha256').update(`${client.target}\ngzip ${layer.diffId}`).digest('hex')}.json`);
  const saved = await readJson<{ location?: string }>(sessionFile).catch(() => undefined);
  let session = saved?.location ? await up.status(saved.location).catch(() => undefined) : undefined;
  const resumed = session !== undefined;
  let minChunk: string | undefined;
  if (!session) {
    const start = await up.start(layer.diffId);
    if (start.mounted) throw new TsdockError(`uploading layer ${layer.diffId}: the registry mounted a blob that was not asked for`);
    session = { location: start.location, offset: 0 };
    minChunk = start.minChunk;
    await remember(sessionFile, session.location);
  }
  const size = chunkSize(opts.chunk ?? STREAM_CHUNK, minChunk);
  let { location } = session;
  const sent0 = session.offset;
  const hash = crypto.createHash('sha256');
  let made = 0;
  let sent = sent0;
  // the one buffer of this layer: filled with what the registry lacks, sent as a chunk when full, reused
  const chunk = Buffer.allocUnsafe(size);
  let filled = 0;
  const patch = async (): Promise<void> => {
    location = await up.patch(location, Readable.from([chunk.subarray(0, filled)]), sent, filled, layer.diffId);
    sent += filled;
    filled = 0;
    await remember(sessionFile, location);
    opts.progress?.(sent);
  };
  try {
    for await (const piece of layer.tar().pipe(zlib.createGzip())) {
      const buf = piece as Buffer;
      hash.update(buf);
      const start = made;
      made += buf.length;
      if (made <= sent0) continue;
      let fresh = start < sent0 ? buf.subarray(sent0 - start) : buf;
      while (fresh.length > 0) {
        const n = fresh.copy(chunk, filled);
        filled += n;
        fresh = fresh.subarray(n);
        if (filled === size) await patch();
      }
    }
    if (made < sent0) throw new TsdockError(`uploading layer ${layer.diffId}: the registry holds ${sent0} bytes of a ${made}-byte blob`);
    const digest = `sha256:${hash.digest('hex')}`;
    if (sent === 0 && filled <= (opts.monolithicMax ?? MONOLITHIC_MAX)) {
      await up.finish(location, digest, Readable.from([chunk.subarray(0, filled)]), filled);
    } else {
      if (filled > 0) await patch();
      await up.finish(location, digest);
    }
    await fs.promises.rm(sessionFile, { force: true });
    opts.progress?.(made);
    return { digest, size: made };
  } catch (err) {
    // a continued session the registry will not finish (our bytes and its differ): start afresh, once
    if (!resumed || retried) throw err;
    await fs.promises.rm(sessionFile, { force: true });
    return pushCompressed(client, layer, opts, true);
  }
}
