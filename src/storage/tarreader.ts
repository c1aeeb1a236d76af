import { IntegrityError, TsdockError } from '../errors.js';
import type { ByteSource } from './bytesource.js';
import { BLOCK, cString, decodeHeader, isZeroBlock, parsePax, type PaxRecords, type RawHeader } from './tarheader.js';

export type TarEntryType = 'file' | 'directory' | 'symlink' | 'hardlink' | 'chardev' | 'blockdev' | 'fifo';

/** One file-system entry of a tar stream, with pax and GNU long-name extensions already applied. */
export interface TarEntry {
  type: TarEntryType;
  /** the path exactly as the archive names it (unsanitized) */
  path: string;
  /** symlink target or hardlink source, as in the archive (unsanitized); '' for other types */
  linkpath: string;
  /** permission bits including setuid/setgid/sticky */
  mode: number;
  uid: number;
  gid: number;
  /** body length: non-zero only for regular files */
  size: number;
  /** seconds since the epoch, possibly fractional */
  mtime: number;
  atime: number;
  devmajor: number;
  devminor: number;
  xattrs: ReadonlyMap<string, Buffer>;
  /** stream offset of the entry's header, for messages */
  offset: number;
}

const TYPES: Record<string, TarEntryType> = {
  '0': 'file',
  '7': 'file',
  '1': 'hardlink',
  '2': 'symlink',
  '3': 'chardev',
  '4': 'blockdev',
  '5': 'directory',
  '6': 'fifo',
  D: 'directory', // GNU dumpdir: a directory whose body lists its contents; the body is skipped
};

const MAX_PAX = 8 * 1024 * 1024;
/** the xattrs of every entry without pax records: one map, not one per entry */
const NO_XATTRS: ReadonlyMap<string, Buffer> = new Map();
const MAX_LONG_NAME = 64 * 1024;

/**
 * Streams entries out of a tar archive. Call `next()` for each entry and (for files) iterate `body()`;
 * a body that is not read is skipped. As Go's archive/tar (and so docker) does, link, device, directory and
 * fifo entries never have a body whatever their size field says, and pax global headers are ignored.
 * After the end-of-archive marker the rest of the stream is read and discarded.
 */
export class TarReader {
  private bodyLeft = 0;
  private padLeft = 0;
  private current: TarEntry | undefined;
  private done = false;

  /** with `layout`, every byte is recorded there, a file's body as a reference to its path */
  constructor(
    private readonly src: ByteSource,
    private readonly layout?: { bytes(b: Buffer): void; file(name: string, size: number): void },
  ) {
    if (layout) src.tap = (b) => layout.bytes(b);
  }

  async next(): Promise<TarEntry | undefined> {
    // most entries have no body left to skip and a header already in the chunk: no awaits for those (each is
    // a round of promise jobs, and a layer has thousands of entries read by code the JIT has not warmed up)
    if (this.bodyLeft > 0 || this.padLeft > 0) await this.skipRest();
    else this.current = undefined;
    if (this.done) return undefined;
    let pax: PaxRecords | undefined;
    let longName: string | undefined;
    let longLink: string | undefined;
    for (;;) {
      const at = this.src.consumed;
      const block = this.src.readBuffered(BLOCK) ?? (await this.src.readExact(BLOCK));
      if (!block) return this.finish(pax || longName || longLink ? at : undefined);
      if (block.length < BLOCK) throw new IntegrityError(`tar stream truncated inside the header at offset ${at}`);
      if (isZeroBlock(block)) {
        if (pax || longName !== undefined || longLink !== undefined) throw new IntegrityError(`tar stream ends after an extended header at offset ${at}`);
        await this.src.drain();
        return this.finish();
      }
      const h = decodeHeader(block, at);
      switch (h.typeflag) {
        case 'x':
        case 'X':
          pax = parsePax(await this.readMeta(h, at, MAX_PAX), at, pax);
          continue;
        case 'g':
          await this.skipData(h.size, padding(h.size), at);
          continue;
        case 'L':
          longName = cString(await this.readMeta(h, at, MAX_LONG_NAME), 0, h.size);
          continue;
        case 'K':
          longLink = cString(await this.readMeta(h, at, MAX_LONG_NAME), 0, h.size);
          continue;
        case 'V': // volume label
          await this.skipData(h.size, padding(h.size), at);
          continue;
      }
      const entry = this.entryOf(h, at, pax, longName, longLink);
      if (entry.type === 'file') {
        this.bodyLeft = entry.size;
        this.padLeft = padding(entry.size);
      } else {
        // header-only types; a GNU dumpdir's listing is skipped
        this.bodyLeft = 0;
        this.padLeft = h.typeflag === 'D' ? h.size + padding(h.size) : 0;
      }
      this.current = entry;
      return entry;
    }
  }

  /** The current file entry's content, as views into the stream's chunks. */
  async *body(): AsyncGenerator<Buffer, void, void> {
    const entry = this.current;
    const tap = this.src.tap;
    this.src.tap = undefined;
    let read = 0;
    try {
      while (this.bodyLeft > 0) {
        const part = await this.src.read(this.bodyLeft);
        if (!part) throw this.truncated(entry);
        this.bodyLeft -= part.length;
        read += part.length;
        yield part;
      }
    } finally {
      this.src.tap = tap;
      if (entry && read > 0) this.layout?.file(entry.path, read);
    }
  }

  private entryOf(h: RawHeader, at: number, pax: PaxRecords | undefined, longName?: string, longLink?: string): TarEntry {
    let type = TYPES[h.typeflag];
    const path = pax?.path ?? longName ?? h.name;
    if (!type) {
      const what = h.typeflag === 'S' ? 'gnu sparse file' : `type ${JSON.stringify(h.typeflag)}`;
      throw new TsdockError(`unsupported tar entry ${JSON.stringify(path)} at offset ${at}: ${what}`);
    }
    // pre-POSIX archives mark directories as files with a trailing slash
    if (type === 'file' && h.typeflag === '0' && path.endsWith('/')) type = 'directory';
    const uid = pax?.uid ?? h.uid;
    const gid = pax?.gid ?? h.gid;
    if (uid < 0 || gid < 0) throw new IntegrityError(`invalid tar entry ${JSON.stringify(path)} at offset ${at}: negative uid or gid`);
    const mtime = pax?.mtime ?? h.mtime;
    return {
      type,
      path,
      linkpath: type === 'symlink' || type === 'hardlink' ? (pax?.linkpath ?? longLink ?? h.linkname) : '',
      mode: h.mode,
      uid,
      gid,
      size: type === 'file' ? (pax?.size ?? h.size) : 0,
      mtime,
      atime: pax?.atime ?? h.atime ?? mtime,
      devmajor: h.devmajor,
      devminor: h.devminor,
      xattrs: pax?.xattrs ?? NO_XATTRS,
      offset: at,
    };
  }

  private async readMeta(h: RawHeader, at: number, max: number): Promise<Buffer> {
    if (h.size > max) throw new IntegrityError(`tar extended header at offset ${at} is too large (${h.size} bytes)`);
    const body = h.size === 0 ? Buffer.alloc(0) : await this.src.readExact(h.size);
    if (!body || body.length < h.size) throw new IntegrityError(`tar stream truncated inside the extended header at offset ${at}`);
    await this.skipData(0, padding(h.size), at);
    return body;
  }

  private async skipRest(): Promise<void> {
    const entry = this.current;
    this.current = undefined;
    if (this.bodyLeft === 0 && this.padLeft === 0) return;
    const body = this.bodyLeft;
    const pad = this.padLeft;
    this.bodyLeft = 0;
    this.padLeft = 0;
    if ((await this.src.skip(body)) < body) throw this.truncated(entry);
    // a stream that ends inside the final padding is accepted, as GNU tar and Go do
    await this.src.skip(pad);
  }

  private async skipData(size: number, pad: number, at: number): Promise<void> {
    if ((await this.src.skip(size)) < size) throw new IntegrityError(`tar stream truncated inside the entry at offset ${at}`);
    await this.src.skip(pad);
  }

  private finish(danglingAt?: number): undefined {
    if (danglingAt !== undefined) throw new IntegrityError(`tar stream ends after an extended header at offset ${danglingAt}`);
    this.done = true;
    return undefined;
  }

  private truncated(entry: TarEntry | undefined): IntegrityError {
    const name = entry ? ` ${JSON.stringify(entry.path)}` : '';
    return new IntegrityError(`tar stream truncated: entry${name} ends before its ${entry?.size ?? 0} bytes`);
  }
}

function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}
