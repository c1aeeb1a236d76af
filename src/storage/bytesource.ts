import type { Readable } from 'node:stream';

const EMPTY = Buffer.alloc(0);

/**
 * Pull-based reading of a byte stream: the consumer asks for bytes when it is ready for them, so
 * backpressure is exact (nothing is read ahead beyond the stream's own high-water mark) and nothing is
 * copied except a few bytes of a header straddling two chunks.
 */
export class ByteSource {
  /** bytes handed out so far: the stream offset of the next byte */
  consumed = 0;
  /** sees every byte handed out (a layer's tar layout is recorded through it) */
  tap: ((bytes: Buffer) => void) | undefined;
  private readonly iterator: AsyncIterator<unknown>;
  private chunk: Buffer = EMPTY;
  private pos = 0;
  private ended = false;

  constructor(stream: Readable) {
    this.iterator = stream[Symbol.asyncIterator]();
  }

  /** At most `max` bytes as a view into the stream's chunk, or undefined at the end of the stream. */
  async read(max: number): Promise<Buffer | undefined> {
    while (this.pos >= this.chunk.length) {
      if (this.ended) return undefined;
      const next = await this.iterator.next();
      if (next.done) {
        this.ended = true;
        this.chunk = EMPTY;
        return undefined;
      }
      const value = next.value;
      this.chunk = Buffer.isBuffer(value) ? value : Buffer.from(value as Uint8Array);
      this.pos = 0;
    }
    return this.take(Math.min(max, this.chunk.length - this.pos));
  }

  /** Exactly `n` bytes when the current chunk holds them (a view, no wait), else undefined: then readExact. */
  readBuffered(n: number): Buffer | undefined {
    return this.chunk.length - this.pos < n ? undefined : this.take(n);
  }

  /** The next `n` bytes of the current chunk, which holds them, handed out. */
  private take(n: number): Buffer {
    const out = this.chunk.subarray(this.pos, this.pos + n);
    this.pos += n;
    this.consumed += n;
    if (this.pos === this.chunk.length) this.chunk = EMPTY;
    this.tap?.(out);
    return out;
  }

  /**
   * Exactly `n` bytes; undefined when the stream ends before the first of them. Ending part-way through
   * returns the short buffer, for the caller to report with context.
   */
  async readExact(n: number): Promise<Buffer | undefined> {
    const first = await this.read(n);
    if (!first) return undefined;
    if (first.length === n) return first;
    const parts = [first];
    let have = first.length;
    while (have < n) {
      const part = await this.read(n - have);
      if (!part) break;
      parts.push(part);
      have += part.length;
    }
    return Buffer.concat(parts, have);
  }

  /** Skip `n` bytes; returns how many could be skipped before the stream ended. */
  async skip(n: number): Promise<number> {
    let left = n;
    while (left > 0) {
      const part = await this.read(left);
      if (!part) break;
      left -= part.length;
    }
    return n - left;
  }

  /** Read and discard everything up to the end of the stream (so hashes tee'd upstream see all bytes). */
  async drain(): Promise<number> {
    let n = 0;
    for (;;) {
      const part = await this.read(Number.MAX_SAFE_INTEGER);
      if (!part) return n;
      n += part.length;
    }
  }

  /** Stop reading early: ends the iteration, which destroys the stream. */
  async close(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    this.chunk = EMPTY;
    await this.iterator.return?.();
  }
}
