import { Transform, type TransformCallback } from 'node:stream';
import { Decompress } from 'fzstd';
import { IntegrityError } from '../errors.js';

/**
 * Input is fed to the decoder in slices this small so one call can never produce much: a zstd block of
 * at most 128 KiB can be encoded in a few bytes (RLE, or zeros), so a 64 KiB input chunk could expand to
 * gigabytes at once. With 1 KiB slices a slice yields at most ~32 MiB, and we wait for the reader between
 * slices. Measured: slicing costs nothing noticeable against fzstd's own speed.
 */
const SLICE = 1024;

const ZSTD_ERRORS = ['invalid data', 'window size too large', 'invalid block type', 'fse accuracy too high', 'match distance too far back', 'unexpected end of data'];

/**
 * Streaming zstd decompression (fzstd, pure JS; Node 20's zlib has no zstd) as a Transform that respects
 * backpressure. Corrupt input errors; input that stops inside a frame errors at end. Multi-frame and
 * skippable-frame streams are supported; frame checksums are not verified (layer digests are).
 */
export class ZstdDecompress extends Transform {
  private readonly decoder: Decompress;
  private sawInput = false;
  private wakeReader: (() => void) | undefined;

  constructor() {
    super();
    this.decoder = new Decompress((data) => {
      if (data.length > 0) this.push(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    });
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, callback: TransformCallback): void {
    if (chunk.length > 0) this.sawInput = true;
    this.feed(chunk).then(() => callback(), callback);
  }

  override _flush(callback: TransformCallback): void {
    if (!this.sawInput) return callback(new IntegrityError('zstd: empty input, expected a zstd frame'));
    try {
      this.decoder.push(new Uint8Array(0), true);
    } catch (err) {
      return callback(zstdError(err, 'the stream ends inside a frame'));
    }
    callback();
  }

  override _read(size: number): void {
    const wake = this.wakeReader;
    this.wakeReader = undefined;
    wake?.();
    super._read(size);
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    const wake = this.wakeReader;
    this.wakeReader = undefined;
    wake?.();
    super._destroy(err, callback);
  }

  private async feed(chunk: Buffer): Promise<void> {
    for (let off = 0; off < chunk.length && !this.destroyed; off += SLICE) {
      try {
        this.decoder.push(chunk.subarray(off, off + SLICE), false);
      } catch (err) {
        throw zstdError(err);
      }
      if (this.readableLength >= this.readableHighWaterMark && !this.destroyed) {
        await new Promise<void>((resolve) => (this.wakeReader = resolve));
      }
    }
  }
}

function zstdError(err: unknown, truncated?: string): Error {
  const code = (err as { code?: unknown }).code;
  let what = typeof code === 'number' ? ZSTD_ERRORS[code] : undefined;
  if (code === 5 && truncated) what = truncated;
  return new IntegrityError(`zstd: ${what ?? (err instanceof Error ? err.message.toLowerCase() : String(err))}`, { cause: err });
}
