/**
 * One blob of a push, read from a file (a layer's kept blob) or a buffer (the config): skipped when the target
 * repository has it (HEAD), mounted from another repository of the registry that has it, else uploaded —
 * whole in the closing PUT when small, in PATCH chunks when large. The session's Location is kept in a file
 * (`<root>/uploads/`) while it is open, so a push killed mid-blob continues where the registry says it stands.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { readJson, writeJsonAtomic } from '../state/atomic.js';
import type { RegistryClient } from './registry/client.js';
import { chunkSize, type Uploads } from './registry/upload.js';

/** Blobs up to this size go in one PUT; larger ones in chunks of CHUNK bytes (or the registry's minimum). */
export const MONOLITHIC_MAX = 16 * 1024 * 1024;
export const CHUNK = 16 * 1024 * 1024;

export interface BlobSource {
  digest: string;
  size: number;
  /** the blob's file, or its bytes */
  file?: string;
  bytes?: Buffer;
  /** makes the file when the blob must be uploaded after all (not present, not mounted): a blob of another registry */
  fetch?: () => Promise<string>;
}

export type BlobOutcome = { kind: 'exists' } | { kind: 'mounted'; from: string } | { kind: 'pushed' };

export interface PushBlobOptions {
  /** repositories of the same registry the blob is known to be in (without the registry), tried in order */
  mountFrom: string[];
  /** the directory that keeps open sessions' locations */
  sessionDir: string;
  progress?: (current: number, total: number) => void;
  monolithicMax?: number;
  chunk?: number;
}

export async function pushBlob(client: RegistryClient, blob: BlobSource, opts: PushBlobOptions): Promise<BlobOutcome> {
  if (await client.blobExists(blob.digest)) return { kind: 'exists' };
  const up = client.uploads();
  const sessionFile = path.join(opts.sessionDir, `${crypto.createHash('sha256').update(`${client.target}\n${blob.digest}`).digest('hex')}.json`);
  let session = await resume(up, sessionFile);
  const resumed = session !== undefined;
  if (!session) {
    for (const from of opts.mountFrom) {
      const start = await up.start(blob.digest, from);
      if (start.mounted) return { kind: 'mounted', from };
      session = { location: start.location, offset: 0, minChunk: start.minChunk };
      break;
    }
    if (!session) {
      const start = await up.start(blob.digest);
      if (start.mounted) return { kind: 'exists' };
      session = { location: start.location, offset: 0, minChunk: start.minChunk };
    }
    await remember(sessionFile, session.location);
  }
  if (!blob.file && !blob.bytes && blob.fetch) blob = { ...blob, file: await blob.fetch() };
  const read = (start: number, length: number): Readable => {
    const stream = blob.file ? fs.createReadStream(blob.file, { start, end: start + length - 1, highWaterMark: 1 << 20 }) : Readable.from([blob.bytes!.subarray(start, start + length)]);
    let sent = start;
    stream.on('data', (c: Buffer | string) => opts.progress?.((sent += c.length), blob.size));
    return stream;
  };
  try {
    await send(up, blob, session, sessionFile, read, opts);
  } catch (err) {
    // a resumed session the registry will not continue (its offset and ours disagree): start afresh, once
    if (!resumed) throw err;
    await fs.promises.rm(sessionFile, { force: true });
    return pushBlob(client, blob, opts);
  }
  await fs.promises.rm(sessionFile, { force: true });
  return { kind: 'pushed' };
}

async function send(
  up: Uploads,
  blob: BlobSource,
  session: { location: string; offset: number; minChunk?: string },
  sessionFile: string,
  read: (start: number, length: number) => Readable,
  opts: PushBlobOptions,
): Promise<void> {
  let { location, offset } = session;
  if (offset === 0 && blob.size <= (opts.monolithicMax ?? MONOLITHIC_MAX)) {
    await up.finish(location, blob.digest, read(0, blob.size), blob.size);
    return;
  }
  const size = chunkSize(opts.chunk ?? CHUNK, session.minChunk);
  while (offset < blob.size) {
    const length = Math.min(size, blob.size - offset);
    location = await up.patch(location, read(offset, length), offset, length, blob.digest);
    offset += length;
    await remember(sessionFile, location);
  }
  await up.finish(location, blob.digest);
}

/** A session a killed push left open, where the registry says it stands; undefined (and forgotten) if gone. */
async function resume(up: Uploads, file: string): Promise<{ location: string; offset: number; minChunk?: string } | undefined> {
  const saved = await readJson<{ location?: string }>(file).catch(() => undefined);
  if (!saved?.location) return undefined;
  const status = await up.status(saved.location).catch(() => undefined);
  if (!status) await fs.promises.rm(file, { force: true });
  return status;
}

/** Keep an open session's Location, so a killed push continues it. */
export async function remember(file: string, location: string): Promise<void> {
  await fs.promises.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  await writeJsonAtomic(file, { location });
}
