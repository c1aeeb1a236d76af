/**
 * One layer of a push that is not kept compressed (a committed or built layer's uncompressed blob, or a layer
 * kept only as diff/ + tar-layout.gz): its tar gzip'd while it streams to the registry, in PATCH chunks of
 * CHUNK bytes (the one buffer held: never the whole layer), the digest known only at the closing PUT. gzip of the
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
import { CHUNK, MONOLITHIC_MAX, remember } from './push-blob.js';

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
  const size = chunkSize(opts.chunk ?? CHUNK, minChunk);
  let { location } = session;
  const sent0 = session.offset;
  const hash = crypto.createHash('sha256');
  let made = 0;
  let sent = sent0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  const patch = async (chunk: Buffer): Promise<void> => {
    location = await up.patch(location, Readable.from([chunk]), sent, chunk.length, layer.diffId);
    sent += chunk.length;
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
      const fresh = start < sent0 ? buf.subarray(sent0 - start) : buf;
      pending.push(fresh);
      pendingBytes += fresh.length;
      while (pendingBytes >= size) {
        const all = Buffer.concat(pending, pendingBytes);
        const rest = all.subarray(size);
        pending = rest.length ? [rest] : [];
        pendingBytes = rest.length;
        await patch(all.subarray(0, size));
      }
    }
    if (made < sent0) throw new TsdockError(`uploading layer ${layer.diffId}: the registry holds ${sent0} bytes of a ${made}-byte blob`);
    const digest = `sha256:${hash.digest('hex')}`;
    if (sent === 0 && pendingBytes <= (opts.monolithicMax ?? MONOLITHIC_MAX)) {
      const body = Buffer.concat(pending, pendingBytes);
      await up.finish(location, digest, Readable.from([body]), body.length);
    } else {
      if (pendingBytes > 0) await patch(Buffer.concat(pending, pendingBytes));
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
