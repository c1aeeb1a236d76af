import { PassThrough, Transform, type TransformCallback } from 'node:stream';
import { IntegrityError } from '../errors.js';
import { gunzipStream } from './gunzip.js';
import { ZstdDecompress } from './zstd.js';

export type Compression = 'gzip' | 'zstd' | 'none';

const GZIP_MAGIC = [0x1f, 0x8b];
const ZSTD_MAGIC = [0x28, 0xb5, 0x2f, 0xfd];

/**
 * Which compression a stream starting with `head` uses, from its magic bytes; undefined while `head` is too
 * short to tell. Anything else (a tar starts with a file name) is 'none'.
 */
export function sniffCompression(head: Uint8Array, ended = false): Compression | undefined {
  if (startsWith(head, ZSTD_MAGIC)) return 'zstd';
  if (startsWith(head, GZIP_MAGIC)) return 'gzip';
  const couldBe = (magic: number[]) => head.length < magic.length && startsWith(magic, Array.from(head));
  if (!ended && (couldBe(ZSTD_MAGIC) || couldBe(GZIP_MAGIC))) return undefined;
  return 'none';
}

/** A Transform decompressing `kind`; 'auto' picks by the stream's magic bytes. Corrupt or truncated input errors. */
export function decompressStream(kind: Compression | 'auto'): Transform {
  switch (kind) {
    case 'none':
      return new PassThrough();
    case 'zstd':
      return new ZstdDecompress();
    case 'gzip':
      return new Delegate(gunzipStream());
    case 'auto':
      return new Delegate();
  }
}

function make(kind: Compression): Transform {
  return kind === 'gzip' ? gunzipStream() : kind === 'zstd' ? new ZstdDecompress() : new PassThrough();
}

/**
 * Forwards through an inner Transform (chosen up front, or by sniffing the first bytes), passing
 * backpressure both ways and prefixing the inner's errors with what failed ("gzip: ...").
 */
class Delegate extends Transform {
  private inner: Transform | undefined;
  private kind: Compression | undefined;
  private head: Buffer[] = [];
  private headLength = 0;

  constructor(inner?: Transform) {
    super();
    if (inner) this.attach(inner, 'gzip');
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, callback: TransformCallback): void {
    if (this.inner) return this.forward(chunk, callback);
    this.head.push(chunk);
    this.headLength += chunk.length;
    const head = Buffer.concat(this.head, this.headLength);
    const kind = sniffCompression(head);
    if (!kind) return callback();
    this.head = [];
    this.attach(make(kind), kind);
    this.forward(head, callback);
  }

  override _flush(callback: TransformCallback): void {
    if (!this.inner) {
      const head = Buffer.concat(this.head, this.headLength);
      this.head = [];
      const kind = sniffCompression(head, true)!;
      this.attach(make(kind), kind);
      if (head.length > 0) this.inner!.write(head);
    }
    const inner = this.inner!;
    inner.once('end', () => callback());
    inner.end();
  }

  override _read(size: number): void {
    this.inner?.resume();
    super._read(size);
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.inner?.destroy();
    callback(err);
  }

  private attach(inner: Transform, kind: Compression): void {
    this.inner = inner;
    this.kind = kind;
    inner.on('data', (data: Buffer) => {
      if (!this.push(data)) inner.pause();
    });
    inner.on('error', (err: Error) => this.destroy(this.describe(err)));
  }

  private forward(chunk: Buffer, callback: TransformCallback): void {
    if (this.inner!.write(chunk)) callback();
    else this.inner!.once('drain', () => callback());
  }

  private describe(err: Error): Error {
    if (err instanceof IntegrityError || this.kind !== 'gzip') return err;
    const msg = err.message.toLowerCase();
    return new IntegrityError(`gzip: ${msg === 'unexpected end of file' ? 'the stream ends inside a member (truncated)' : msg}`, { cause: err });
  }
}

function startsWith(buf: ArrayLike<number>, prefix: ArrayLike<number>): boolean {
  if (buf.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (buf[i] !== prefix[i]) return false;
  return true;
}
