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

/** Receives the tar's bytes as the reader hands them out; a file body is recorded as a reference. */
export class TarLayoutRecorder {
  private raw: Buffer[] = [];
  private rawBytes = 0;
  private readonly gzip = zlib.createGzip({ level: 6 });
  private readonly out: fs.WriteStream;
  private readonly closed: Promise<unknown>;

  constructor(file: string) {
    this.out = fs.createWriteStream(file, { mode: 0o600 });
    this.gzip.pipe(this.out);
    this.closed = once(this.out, 'close');
    this.closed.catch(() => {});
  }

  bytes(b: Buffer): void {
    this.raw.push(Buffer.from(b));
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
    this.gzip.write(Buffer.concat([head, p, sz]));
  }

  async finish(): Promise<void> {
    this.flush();
    this.gzip.end();
    await this.closed;
  }

  abort(): void {
    this.gzip.destroy();
    this.out.destroy();
  }

  private flush(): void {
    if (this.rawBytes === 0) return;
    const head = Buffer.alloc(5);
    head.write('R', 0, 'latin1');
    head.writeUInt32BE(this.rawBytes, 1);
    this.gzip.write(Buffer.concat([head, ...this.raw]));
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
