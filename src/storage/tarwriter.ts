import fs from 'node:fs';
import type { Writable } from 'node:stream';
import { once } from 'node:events';

/**
 * A small tar writer (ustar headers, pax extended headers for long or non-ASCII names, big ids and sizes,
 * and xattrs as SCHILY.xattr.*), as docker's archive package writes them. The archive is written to a
 * Writable, honouring backpressure.
 */
export type TarWriteType = 'file' | 'hardlink' | 'symlink' | 'chardev' | 'blockdev' | 'directory' | 'fifo';

export interface TarWriteEntry {
  /** archive path, without a leading slash; directories get a trailing slash added */
  name: string;
  type: TarWriteType;
  mode: number;
  uid: number;
  gid: number;
  /** seconds since the epoch */
  mtime: number;
  /** regular files: body length */
  size?: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
  xattrs?: Map<string, Buffer>;
}

const TYPEFLAG: Record<TarWriteType, string> = { file: '0', hardlink: '1', symlink: '2', chardev: '3', blockdev: '4', directory: '5', fifo: '6' };
const BLOCK = 512;
const MAX_OCTAL_8 = 0o7777777;
const MAX_OCTAL_12 = 0o77777777777;

export class TarWriter {
  private closed = false;
  /** bytes written so far */
  bytes = 0;

  /** `clampMtime`: no entry's mtime is later than this (seconds; reproducible layers, SOURCE_DATE_EPOCH) */
  constructor(
    private readonly out: Writable,
    private readonly opts: { clampMtime?: number } = {},
  ) {}

  private async write(buf: Buffer): Promise<void> {
    this.bytes += buf.length;
    if (!this.out.write(buf)) await Promise.race([once(this.out, 'drain'), once(this.out, 'close')]);
  }

  /**
   * Add an entry; a regular file's body comes from `body`: a path read with O_NOFOLLOW, a Buffer, or `{ fd }` (an
   * open file, read from its current offset and left open for the caller to close).
   */
  async add(entry: TarWriteEntry, body?: string | Buffer | { fd: number }): Promise<void> {
    if (this.closed) throw new Error('tar writer closed');
    let name = entry.name.replace(/^\/+/, '');
    if (entry.type === 'directory' && !name.endsWith('/')) name += '/';
    const size = entry.type === 'file' ? (entry.size ?? 0) : 0;
    const pax = new Map<string, Buffer>();
    const { name: hName, prefix } = splitName(name);
    if (hName === undefined) pax.set('path', Buffer.from(name));
    const link = entry.linkname ?? '';
    if (Buffer.byteLength(link) > 100 || !ascii(link)) pax.set('linkpath', Buffer.from(link));
    if (entry.uid > MAX_OCTAL_8) pax.set('uid', Buffer.from(String(entry.uid)));
    if (entry.gid > MAX_OCTAL_8) pax.set('gid', Buffer.from(String(entry.gid)));
    if (size > MAX_OCTAL_12) pax.set('size', Buffer.from(String(size)));
    for (const [k, v] of entry.xattrs ?? []) pax.set(`SCHILY.xattr.${k}`, v);
    if (pax.size > 0) {
      const body = encodePax(pax);
      const paxName = `PaxHeaders.0/${name.replace(/\/$/, '').split('/').pop()!.slice(0, 80)}`;
      await this.write(header({ name: paxName, prefix: '', type: 'x', mode: 0o644, uid: 0, gid: 0, mtime: 0, size: body.length, link: '', devmajor: 0, devminor: 0 }));
      await this.write(pad(body));
    }
    await this.write(
      header({
        name: hName ?? name.slice(0, 100),
        prefix: hName === undefined ? '' : prefix,
        type: TYPEFLAG[entry.type],
        mode: entry.mode & 0o7777,
        uid: Math.min(entry.uid, MAX_OCTAL_8),
        gid: Math.min(entry.gid, MAX_OCTAL_8),
        mtime: Math.max(0, Math.min(Math.floor(entry.mtime), this.opts.clampMtime ?? MAX_OCTAL_12, MAX_OCTAL_12)),
        size: Math.min(size, MAX_OCTAL_12),
        link: Buffer.byteLength(link) > 100 ? '' : link,
        devmajor: entry.devmajor ?? 0,
        devminor: entry.devminor ?? 0,
      }),
    );
    if (entry.type !== 'file' || size === 0) return;
    if (Buffer.isBuffer(body)) {
      await this.write(pad(body.subarray(0, size)));
      return;
    }
    if (body === undefined) throw new Error(`tar entry ${name}: no body`);
    const given = typeof body === 'object';
    const fd = given ? body.fd : fs.openSync(body, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
    try {
      let left = size;
      const chunk = Buffer.alloc(Math.min(1 << 20, Math.max(BLOCK, size)));
      while (left > 0) {
        const n = fs.readSync(fd, chunk, 0, Math.min(chunk.length, left), null);
        if (n === 0) {
          // the file shrank while we read it: pad with zeros so the archive stays consistent
          const zeros = Buffer.alloc(left);
          await this.write(zeros);
          left = 0;
          break;
        }
        await this.write(Buffer.from(chunk.subarray(0, n)));
        left -= n;
      }
      const rem = size % BLOCK;
      if (rem) await this.write(Buffer.alloc(BLOCK - rem));
    } finally {
      if (!given) fs.closeSync(fd);
    }
  }

  /** Two zero blocks; the caller ends the stream. */
  async finish(): Promise<void> {
    await this.write(Buffer.alloc(BLOCK * 2));
    this.closed = true;
  }
}

function ascii(s: string): boolean {
  return /^[\x20-\x7e]*$/.test(s);
}

/** ustar name/prefix split; name undefined when the path needs a pax record */
function splitName(p: string): { name?: string; prefix: string } {
  if (!ascii(p)) return { prefix: '' };
  if (p.length <= 100) return { name: p, prefix: '' };
  // split at a slash so that prefix <= 155 and name <= 100
  for (let i = p.length - 1; i > 0; i--) {
    if (p[i] !== '/') continue;
    const prefix = p.slice(0, i);
    const name = p.slice(i + 1);
    if (prefix.length <= 155 && name.length <= 100 && name.length > 0) return { name, prefix };
    if (prefix.length <= 155) break;
  }
  return { prefix: '' };
}

function encodePax(records: Map<string, Buffer>): Buffer {
  const parts: Buffer[] = [];
  for (const [k, v] of records) {
    const rest = Buffer.concat([Buffer.from(` ${k}=`), v, Buffer.from('\n')]);
    let len = rest.length + 1;
    while (String(len).length + rest.length !== len) len = String(len).length + rest.length;
    parts.push(Buffer.from(String(len)), rest);
  }
  return Buffer.concat(parts);
}

function pad(buf: Buffer): Buffer {
  const rem = buf.length % BLOCK;
  return rem ? Buffer.concat([buf, Buffer.alloc(BLOCK - rem)]) : buf;
}

interface Fields {
  name: string;
  prefix: string;
  type: string;
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  size: number;
  link: string;
  devmajor: number;
  devminor: number;
}

function header(f: Fields): Buffer {
  const b = Buffer.alloc(BLOCK);
  b.write(f.name, 0, 100, 'utf8');
  octal(b, 100, 8, f.mode);
  octal(b, 108, 8, f.uid);
  octal(b, 116, 8, f.gid);
  octal(b, 124, 12, f.size);
  octal(b, 136, 12, f.mtime);
  b.fill(0x20, 148, 156);
  b.write(f.type, 156, 1, 'latin1');
  b.write(f.link, 157, 100, 'utf8');
  b.write('ustar\u000000', 257, 8, 'latin1');
  octal(b, 329, 8, f.devmajor);
  octal(b, 337, 8, f.devminor);
  b.write(f.prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const byte of b) sum += byte;
  b.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 8, 'latin1');
  return b;
}

function octal(b: Buffer, off: number, len: number, value: number): void {
  b.write(`${Math.max(0, value).toString(8).padStart(len - 1, '0')}\u0000`, off, len, 'latin1');
}

/** The tar header for an lstat result named `name` (a symlink's target given as `linkname`); undefined for sockets. */
export function entryHeader(name: string, st: fs.Stats, linkname?: string): TarWriteEntry | undefined {
  const base = { name, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: Math.floor(st.mtimeMs / 1000) };
  if (st.isDirectory()) return { ...base, type: 'directory' };
  if (st.isFile()) return { ...base, type: 'file', size: st.size };
  if (st.isSymbolicLink()) return { ...base, type: 'symlink', linkname: linkname ?? '' };
  if (st.isCharacterDevice() || st.isBlockDevice()) {
    const major = Number((BigInt(st.rdev) >> 8n) & 0xfffn) | Number((BigInt(st.rdev) >> 32n) & ~0xfffn);
    const minor = (st.rdev & 0xff) | Number((BigInt(st.rdev) >> 12n) & 0xffffff00n);
    return { ...base, type: st.isCharacterDevice() ? 'chardev' : 'blockdev', devmajor: major, devminor: minor };
  }
  if (st.isFIFO()) return { ...base, type: 'fifo' };
  return undefined; // sockets are not archived
}
