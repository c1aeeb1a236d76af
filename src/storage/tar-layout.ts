/**
 * A layer's tar layout (what containers/storage calls tar-split): every byte of the layer tar except the
 * regular files' bodies, which are named by path instead. Recorded while the layer is unpacked; with the
 * unpacked diff dir it gives back the original tar byte for byte, so `save` writes layers that still match
 * their diff_ids. Stored gzip'd beside the layer (layers/<algo>/<hex>/tar-layout.gz).
 *
 * Frames: 'R' u32 length, bytes (raw tar bytes) | 'F' u32 length, path (as the archive names it), u64 size.
 */
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { once } from 'node:events';
import { IntegrityError } from '../errors.js';
import { ByteSource } from './bytesource.js';
import { normalizeEntryPath } from './tarpath.js';

export const TAR_LAYOUT_FILE = 'tar-layout.gz';
const FLUSH_AT = 64 * 1024;
const MEMORY_LIMIT = 1024 * 1024;
/** headers are mostly zeros: level 1 is a third of level 6's time (busybox's layout: 0.4 ms, not 1.2) for ~25% more */
const LEVEL = 1;

/**
 * Receives the tar's bytes as the reader hands them out; a file body is recorded as a reference. Frames are
 * kept in memory up to MEMORY_LIMIT and then written with one synchronous gzip at finish (a small layer's layout
 * is a few hundred KB at most: the thread-pool round trips of a stream cost more than the work); a larger
 * layout switches to a gzip stream into the file, so memory stays bounded.
 */
export class TarLayoutRecorder {
  private raw: Buffer[] = [];
  private rawBytes = 0;
  /** frames not yet in a stream (memory mode) */
  private held: Buffer[] = [];
  private heldBytes = 0;
  private stream: { gzip: zlib.Gzip; out: fs.WriteStream; closed: Promise<unknown> } | undefined;

  constructor(private readonly target: string) {
    // node:zlib loads on first use (scripts/bundle.mjs): here, where a pull still waits for the registry, rather
    // than at finish(), after the last entry (~1 ms)
    void zlib.constants;
  }

  bytes(b: Buffer): void {
    // a view, not a copy: the stream never writes into a chunk it handed out, and flush() copies the views
    // together before 64 KiB of them (or the next file) has gone by
    this.raw.push(b);
    this.rawBytes += b.length;
    if (this.rawBytes >= FLUSH_AT) this.flush();
  }

  file(name: string, size: number): void {
    this.flush();
    const p = Buffer.from(name);
    const head = Buffer.alloc(5);
    head.write('F', 0, 'latin1');
    head.writeUInt32BE(p.length, 1);
    const sz = Buffer.alloc(8);
    sz.writeBigUInt64BE(BigInt(size));
    this.frame(Buffer.concat([head, p, sz]));
  }

  async finish(): Promise<void> {
    this.flush();
    if (!this.stream) {
      fs.writeFileSync(this.target, zlib.gzipSync(Buffer.concat(this.held, this.heldBytes), { level: LEVEL }), { mode: 0o600 });
      this.held = [];
      return;
    }
    this.stream.gzip.end();
    await this.stream.closed;
  }

  abort(): void {
    this.held = [];
    this.stream?.gzip.destroy();
    this.stream?.out.destroy();
  }

  private frame(b: Buffer): void {
    if (this.stream) {
      this.stream.gzip.write(b);
      return;
    }
    this.held.push(b);
    this.heldBytes += b.length;
    if (this.heldBytes < MEMORY_LIMIT) return;
    const gzip = zlib.createGzip({ level: LEVEL });
    const out = fs.createWriteStream(this.target, { mode: 0o600 });
    gzip.pipe(out);
    const closed = once(out, 'close');
    closed.catch(() => {});
    this.stream = { gzip, out, closed };
    for (const h of this.held) gzip.write(h);
    this.held = [];
  }

  private flush(): void {
    if (this.rawBytes === 0) return;
    const head = Buffer.alloc(5);
    head.write('R', 0, 'latin1');
    head.writeUInt32BE(this.rawBytes, 1);
    this.frame(Buffer.concat([head, ...this.raw]));
    this.raw = [];
    this.rawBytes = 0;
  }
}

/** The layer tar rebuilt from `layoutFile` and the unpacked `diffDir`, as a stream of chunks. */
export async function* rebuildLayerTar(diffDir: string, layoutFile: string): AsyncGenerator<Buffer, void, void> {
  const src = new ByteSource(fs.createReadStream(layoutFile).pipe(zlib.createGunzip()));
  const bad = (why: string) => new IntegrityError(`tar layout ${layoutFile}: ${why}`);
  try {
    for (;;) {
      const head = await src.readExact(5);
      if (!head) return;
      if (head.length < 5) throw bad('truncated frame');
      const len = head.readUInt32BE(1);
      const kind = head.toString('latin1', 0, 1);
      if (kind === 'R') {
        let left = len;
        while (left > 0) {
          const part = await src.read(left);
          if (!part) throw bad('truncated raw frame');
          left -= part.length;
          yield Buffer.from(part);
        }
      } else if (kind === 'F') {
        const rest = await src.readExact(len + 8);
        if (!rest || rest.length < len + 8) throw bad('truncated file frame');
        const name = rest.toString('utf8', 0, len);
        yield* fileBody(path.join(diffDir, normalizeEntryPath(name)), Number(rest.readBigUInt64BE(len)));
      } else {
        throw bad(`unknown frame ${JSON.stringify(kind)}`);
      }
    }
  } finally {
    await src.close().catch(() => {});
  }
}

async function* fileBody(file: string, size: number): AsyncGenerator<Buffer, void, void> {
  const fh = await fs.promises.open(file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
  try {
    let left = size;
    while (left > 0) {
      const buf = Buffer.allocUnsafe(Math.min(left, 1 << 20));
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) throw new IntegrityError(`layer file ${file} is shorter than its tar entry (${size} bytes)`);
      left -= bytesRead;
      yield buf.subarray(0, bytesRead);
    }
  } finally {
    await fh.close();
  }
}
