import fs from 'node:fs';
import { promisify } from 'node:util';

/**
 * Files up to this size are written piece by piece, synchronously, as the pieces arrive: cheaper than thread-pool
 * hops, and the last piece's write is not a hop the next entry waits behind (busybox's 2 MB binary: ~1.3 ms
 * sooner). The inflate runs on this thread too (gunzip.ts), so the writes had little left to overlap with.
 */
const SMALL_FILE = 8 * 1024 * 1024;
/** Larger files are written in batches of about this much, one batch in flight while the next is read. */
const BATCH = 1024 * 1024;

const writev = promisify(fs.writev);

/**
 * Write a file's content from `body` (views into the tar stream) to `fd`. Large files overlap reading
 * (decompression) with writing, holding at most two batches; no write is left in flight when this returns
 * or throws, so the caller may close `fd` right after.
 */
export async function writeBody(fd: number, body: AsyncIterable<Buffer>, size: number, signal?: AbortSignal): Promise<void> {
  if (size <= SMALL_FILE) {
    for await (const part of body) writeAllSync(fd, part);
    return;
  }
  let inFlight: Promise<void> | undefined;
  let batch: Buffer[] = [];
  let batched = 0;
  try {
    for await (const part of body) {
      batch.push(part);
      batched += part.length;
      if (batched < BATCH) continue;
      signal?.throwIfAborted();
      if (inFlight) await inFlight;
      inFlight = writevAll(fd, batch);
      inFlight.catch(() => {}); // observed by the next await; avoids an unhandled rejection meanwhile
      batch = [];
      batched = 0;
    }
    if (inFlight) await inFlight;
    inFlight = undefined;
    if (batch.length > 0) await writevAll(fd, batch);
  } finally {
    if (inFlight) await inFlight.catch(() => {});
  }
}

function writeAllSync(fd: number, buf: Buffer): void {
  let off = 0;
  while (off < buf.length) {
    const n = fs.writeSync(fd, buf, off, buf.length - off);
    if (n === 0) throw new Error('write wrote nothing');
    off += n;
  }
}

async function writevAll(fd: number, buffers: Buffer[]): Promise<void> {
  let pending = buffers;
  while (pending.length > 0) {
    let written = (await writev(fd, pending)).bytesWritten;
    if (written === 0) throw new Error('writev wrote nothing');
    let i = 0;
    while (i < pending.length && written >= pending[i]!.length) written -= pending[i++]!.length;
    pending = pending.slice(i);
    if (pending.length > 0 && written > 0) pending[0] = pending[0]!.subarray(written);
  }
}
