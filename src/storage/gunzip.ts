import { Transform, type TransformCallback } from 'node:stream';
import zlib from 'node:zlib';
import { gzipInflate, type GzipInflate } from '../sys/inflate.js';

/** output chunks: fewer, larger pushes (a Debian /usr layer unpacked ~30% faster than with 64 KiB) */
const CHUNK = 1 << 20;
/** a new output buffer when less than this is left of the current one */
const MIN_ROOM = 64 * 1024;

/**
 * A gunzip Transform: ISA-L's (GzipIsal) where the addon has it, else zlib's. Both take multi-member streams
 * (pigz, concatenated layers) and ignore what follows a member from a zero byte on (padding), as Node's zlib
 * does; corrupt or truncated input errors with zlib's messages.
 */
export function gunzipStream(impl: 'auto' | 'zlib' | 'isal' = 'auto'): Transform {
  const isal = impl === 'zlib' ? undefined : gzipInflate();
  if (isal) return new GzipIsal(isal);
  if (impl === 'isal') throw new Error('isa-l inflate is not available (libisal.so.2 and the addon)');
  return zlib.createGunzip({ chunkSize: CHUNK });
}

const GZIP_MAGIC = [0x1f, 0x8b];
const EMPTY = Buffer.alloc(0);

/** ISA-L's status codes (igzip_lib.h) as zlib words them */
const MESSAGES: Record<number, string> = {
  [-1]: 'invalid block type',
  [-2]: 'invalid code',
  [-3]: 'invalid distance too far back',
  [-4]: 'incorrect header check',
  [-5]: 'unknown compression method',
  [-6]: 'incorrect data check',
  6: 'a dictionary is needed',
};

/**
 * Inflates synchronously, on the thread that writes to it, one output buffer at a time; when the reader is full,
 * the rest of the chunk waits for its next read (a small input can inflate to gigabytes). Synchronous on purpose:
 * a pull's thread-pool round trips (zlib's way) wait behind the unpacking on the main thread, and held the first
 * unpacked bytes back ~5 ms behind the first downloaded ones; ISA-L's inflate is fast enough to run in line.
 */
class GzipIsal extends Transform {
  private readonly state: Buffer;
  private readonly result = new Int32Array(3);
  private out = Buffer.allocUnsafe(CHUNK);
  /** the current member ended: a zero byte next is padding (it and all after it ignored), anything else starts a
   * member */
  private between = false;
  private padded = false;
  /** how many of the member's two magic bytes were checked */
  private magicSeen = 0;
  /** any member started */
  private started = false;
  /** the chunk being inflated, while the reader is full */
  private pending: { input: Buffer; off: number; full: boolean; callback: TransformCallback } | undefined;
  /** in pump: a read its push starts does not enter it again, it is answered after (readAsked) */
  private pumping = false;
  private readAsked = false;
  /** something was pushed since the last read began */
  private pushed = false;
  private flushed = false;

  constructor(private readonly isal: GzipInflate) {
    super();
    this.state = isal.newState();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, callback: TransformCallback): void {
    this.pending = { input: chunk, off: 0, full: false, callback };
    this.pump();
  }

  override _read(size: number): void {
    // asked while a push of ours is on the stack: answered once the pump returns (ignoring it would leave the
    // stream believing a read is under way, and never ask again)
    if (this.pumping) {
      this.readAsked = true;
      return;
    }
    super._read(size);
    if (!this.pending) return;
    this.pushed = false;
    this.pump();
    // a read answered with nothing (the chunk held no more output) must still end the read, or the stream never
    // asks again: an empty push does that (Readable's documented side effect)
    if (!this.pushed && !this.flushed) this.push(EMPTY);
  }

  override _flush(callback: TransformCallback): void {
    this.flushed = true;
    if (this.started && this.between) return callback();
    callback(new Error('unexpected end of file'));
  }

  /** inflate the pending chunk until it is used up (then its callback) or the reader is full (then wait) */
  private pump(): void {
    const p = this.pending!;
    let err: Error | undefined;
    let done = true;
    this.pumping = true;
    try {
      for (;;) {
        const more = this.step(p);
        if (more === undefined) break; // the chunk is done
        if (!more) {
          done = false; // the reader is full: go on at its next read
          break;
        }
      }
    } catch (e) {
      err = e as Error;
    } finally {
      this.pumping = false;
    }
    if (done) {
      this.pending = undefined;
      p.callback(err);
    }
    if (this.readAsked) {
      this.readAsked = false;
      this._read(0);
    }
  }

  /** one inflate call on `p`: undefined when it is done (input used up, the output not full), else whether the
   * reader wants more */
  private step(p: NonNullable<GzipIsal['pending']>): boolean | undefined {
    const { input } = p;
    if (p.off >= input.length && !p.full) return undefined;
    if (this.between) {
      if (p.off >= input.length) return undefined; // an ended member holds no more output
      if (this.padded || input[p.off] === 0) {
        this.padded = true; // the rest is ignored
        return undefined;
      }
      this.isal.reset(this.state);
      this.between = false;
      this.magicSeen = 0;
    }
    this.started = true;
    // ISA-L waits for a whole 10-byte header before it looks at it: a short foreign tail would read as truncated
    for (let i = p.off; this.magicSeen < 2 && i < input.length; i++, this.magicSeen++) {
      if (input[i] !== GZIP_MAGIC[this.magicSeen]) throw new Error('incorrect header check');
    }
    const room = this.out.length;
    const rc = this.isal.inflate(this.state, input.subarray(p.off), this.out, this.result);
    if (rc !== 0) throw new Error(MESSAGES[rc] ?? `inflate failed (isa-l status ${rc})`);
    const [used, wrote, ended] = this.result as unknown as [number, number, number];
    p.off += used;
    p.full = wrote === room;
    if (ended) this.between = true;
    if (used === 0 && wrote === 0 && !ended) return undefined; // no progress: wait for more input
    return wrote > 0 ? this.pushOut(wrote) : true;
  }

  /** push what was written to the front of `out`; false when the reader wants no more for now */
  private pushOut(wrote: number): boolean {
    this.pushed = true;
    const more = this.push(this.out.subarray(0, wrote));
    this.out = this.out.length - wrote >= MIN_ROOM ? this.out.subarray(wrote) : Buffer.allocUnsafe(CHUNK);
    return more;
  }
}
