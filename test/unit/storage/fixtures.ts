import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable, Writable, type Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

/**
 * Hand-written tar archives for tests, so hostile entries (.., absolute paths, links through symlinks)
 * can be expressed exactly; node-tar's and GNU tar's writers sanitize or refuse them.
 */
export interface FixtureEntry {
  path: string;
  type?: 'file' | 'dir' | 'symlink' | 'link' | 'char' | 'block' | 'fifo' | 'sparse';
  body?: string | Buffer;
  linkpath?: string;
  mode?: number;
  uid?: number;
  gid?: number;
  /** seconds */
  mtime?: number;
  devmajor?: number;
  devminor?: number;
  xattrs?: Record<string, string | Buffer>;
  /** extra raw pax records */
  pax?: Record<string, string | Buffer>;
  /** encode a long path as a GNU 'L' entry instead of pax */
  gnuLongName?: boolean;
}

export const isRoot = process.getuid?.() === 0;

const TYPEFLAG = { file: '0', link: '1', symlink: '2', char: '3', block: '4', dir: '5', fifo: '6', sparse: 'S' } as const;

export function buildTar(entries: FixtureEntry[], opts: { trailer?: boolean; padTo?: number } = {}): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const type = e.type ?? 'file';
    const body = e.body === undefined ? Buffer.alloc(0) : Buffer.from(e.body);
    const records: Array<[string, Buffer]> = [];
    let name = e.path;
    if (Buffer.byteLength(name) > 100 || name.includes('\0')) {
      if (e.gnuLongName) {
        parts.push(header({ name: '././@LongLink', typeflag: 'L', size: Buffer.byteLength(name) + 1 }));
        parts.push(pad(Buffer.concat([Buffer.from(name), Buffer.alloc(1)])));
      } else {
        records.push(['path', Buffer.from(name)]);
      }
      name = name.replace(/\0/g, '').slice(0, 99);
    }
    for (const [k, v] of Object.entries(e.xattrs ?? {})) records.push([`SCHILY.xattr.${k}`, Buffer.from(v)]);
    for (const [k, v] of Object.entries(e.pax ?? {})) records.push([k, Buffer.from(v)]);
    if (records.length > 0) {
      const paxBody = Buffer.concat(records.map(([k, v]) => paxRecord(k, v)));
      parts.push(header({ name: 'PaxHeader', typeflag: 'x', size: paxBody.length }));
      parts.push(pad(paxBody));
    }
    parts.push(
      header({
        name,
        typeflag: TYPEFLAG[type],
        size: type === 'file' || type === 'sparse' ? body.length : 0,
        mode: e.mode ?? (type === 'dir' ? 0o755 : 0o644),
        uid: e.uid ?? 0,
        gid: e.gid ?? 0,
        mtime: e.mtime ?? 1_600_000_000,
        linkname: e.linkpath ?? '',
        devmajor: e.devmajor ?? 0,
        devminor: e.devminor ?? 0,
      }),
    );
    if (type === 'file' || type === 'sparse') parts.push(pad(body));
  }
  if (opts.trailer !== false) parts.push(Buffer.alloc(1024));
  let tar = Buffer.concat(parts);
  if (opts.padTo && tar.length % opts.padTo !== 0) tar = Buffer.concat([tar, Buffer.alloc(opts.padTo - (tar.length % opts.padTo))]);
  return tar;
}

interface HeaderFields {
  name: string;
  typeflag: string;
  size: number;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  linkname?: string;
  devmajor?: number;
  devminor?: number;
}

export function header(h: HeaderFields): Buffer {
  const b = Buffer.alloc(512);
  b.write(h.name, 0, 100, 'utf8');
  octal(b, 100, 8, h.mode ?? 0o644);
  octal(b, 108, 8, h.uid ?? 0);
  octal(b, 116, 8, h.gid ?? 0);
  octal(b, 124, 12, h.size);
  octal(b, 136, 12, h.mtime ?? 1_600_000_000);
  b.write(h.typeflag, 156, 1, 'latin1');
  b.write(h.linkname ?? '', 157, 100, 'utf8');
  b.write('ustar\u000000', 257, 8, 'latin1');
  b.write('root', 265, 32);
  b.write('root', 297, 32);
  octal(b, 329, 8, h.devmajor ?? 0);
  octal(b, 337, 8, h.devminor ?? 0);
  return checksum(b);
}

export function checksum(b: Buffer): Buffer {
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of b) sum += byte;
  b.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  return b;
}

function octal(b: Buffer, off: number, len: number, n: number): void {
  if (n >= 8 ** (len - 1)) {
    // GNU base-256
    b[off] = 0x80;
    let v = BigInt(n);
    for (let i = off + len - 1; i > off; i--) {
      b[i] = Number(v & 0xffn);
      v >>= 8n;
    }
    return;
  }
  b.write(`${n.toString(8).padStart(len - 1, '0')}\0`, off, len, 'latin1');
}

function paxRecord(key: string, value: Buffer): Buffer {
  const rest = Buffer.concat([Buffer.from(` ${key}=`), value, Buffer.from('\n')]);
  let len = rest.length + 1;
  while (String(len).length + rest.length !== len) len = String(len).length + rest.length;
  return Buffer.concat([Buffer.from(String(len)), rest]);
}

function pad(b: Buffer): Buffer {
  const rem = b.length % 512;
  return rem === 0 ? b : Buffer.concat([b, Buffer.alloc(512 - rem)]);
}

/** A stream yielding `buf` in chunks of `chunk` bytes (default: odd-sized, to cross header boundaries). */
/** `input`, in chunks of `chunk` bytes, through `transform`: all it gave out */
export async function throughTransform(transform: Transform, input: Buffer, chunk = 4096): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (let i = 0; i < input.length; i += chunk) parts.push(input.subarray(i, i + chunk));
  const out: Buffer[] = [];
  const sink = new Writable({
    write(c: Buffer, _e, cb) {
      out.push(Buffer.from(c));
      cb();
    },
  });
  await pipeline(Readable.from(parts, { objectMode: false }), transform, sink);
  return Buffer.concat(out);
}

export function streamOf(buf: Buffer, chunk = 777): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < buf.length; i += chunk) parts.push(buf.subarray(i, i + chunk));
  return Readable.from(parts, { objectMode: false });
}

export function tmpDir(label: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `tsdock-${label}-`));
}

/** A fresh (dest, outside) pair under one temp root: dest is empty, outside is a sibling to attack. */
export function sandbox(label: string): { root: string; dest: string; outside: string; cleanup: () => void } {
  const root = tmpDir(label);
  const dest = path.join(root, 'layer', 'diff');
  const outside = path.join(root, 'outside');
  fs.mkdirSync(dest, { recursive: true });
  fs.mkdirSync(outside);
  return { root, dest, outside, cleanup: () => forceRemove(root) };
}

/** rm -rf that also works unprivileged on trees with read-only directories (unpacked 0555 dirs). */
export function forceRemove(root: string): void {
  const walk = (dir: string): void => {
    fs.chmodSync(dir, 0o700);
    for (const d of fs.readdirSync(dir, { withFileTypes: true })) if (d.isDirectory()) walk(path.join(dir, d.name));
  };
  if (!isRoot && fs.existsSync(root)) walk(root);
  fs.rmSync(root, { recursive: true, force: true });
}
