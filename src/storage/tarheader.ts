import { IntegrityError, TsdockError } from '../errors.js';
import { tarHeaderNumbers } from '../sys/tarheader.js';

/**
 * Decoding of one 512-byte tar header block (v7, POSIX ustar/pax, GNU) and of pax extended-header records.
 * Numbers may be octal text or GNU base-256. Strings are UTF-8 (as Node paths are).
 */
export interface RawHeader {
  name: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  typeflag: string;
  linkname: string;
  devmajor: number;
  devminor: number;
  /** GNU format stores atime in the header (where ustar keeps the prefix) */
  atime?: number;
}

export const BLOCK = 512;

export function isZeroBlock(block: Buffer): boolean {
  for (let i = 0; i < BLOCK; i++) if (block[i] !== 0) return false;
  return true;
}

/** the addon's reading of a block (sys/tarheader.ts): mode, uid, gid, size, mtime, chksum, devmajor, devminor, atime, sums */
const nums = new Float64Array(11);

/**
 * Decode a header block found at stream offset `at` (for messages); a bad checksum is an IntegrityError. The
 * numbers come from the addon where it has them (`viaAddon` false: from JavaScript, the reference it is tested
 * against).
 */
export function decodeHeader(block: Buffer, at: number, viaAddon = true): RawHeader {
  const fast = viaAddon && tarHeaderNumbers(block, nums);
  const stored = fast ? fieldOf(block, at, 5, 'checksum') : parseNumber(block, 148, 8, 'checksum', at);
  const summed = fast ? stored === nums[9] || stored === nums[10] : stored === checksumOf(block, false) || stored === checksumOf(block, true);
  if (!summed) {
    throw new IntegrityError(`invalid tar header at offset ${at}: checksum mismatch (not a tar stream, or corrupt)`);
  }
  const num = fast ? fieldOf : slowFieldOf;
  const magic = block.toString('latin1', 257, 263);
  const ustar = magic === 'ustar\0';
  const gnu = magic === 'ustar ' && block[263] === 0x20 && block[264] === 0;
  let name = cString(block, 0, 100);
  if (ustar) {
    const prefix = cString(block, 345, 155);
    if (prefix) name = `${prefix}/${name}`;
  }
  const typeflag = block[156] === 0 ? '0' : String.fromCharCode(block[156]!);
  const header: RawHeader = {
    name,
    mode: num(block, at, 0, 'mode') & 0o7777,
    uid: num(block, at, 1, 'uid'),
    gid: num(block, at, 2, 'gid'),
    size: num(block, at, 3, 'size'),
    mtime: num(block, at, 4, 'mtime'),
    typeflag,
    linkname: cString(block, 157, 100),
    devmajor: ustar || gnu ? num(block, at, 6, 'devmajor') : 0,
    devminor: ustar || gnu ? num(block, at, 7, 'devminor') : 0,
  };
  if (gnu && block[345] !== 0) header.atime = num(block, at, 8, 'atime');
  if (header.size < 0) throw new IntegrityError(`invalid tar header at offset ${at}: negative size`);
  return header;
}

/** where each number is in the block, in the addon's order */
const FIELDS: ReadonlyArray<readonly [number, number]> = [[100, 8], [108, 8], [116, 8], [124, 12], [136, 12], [148, 8], [329, 8], [337, 8], [345, 12]];

/** field `i` as the addon read it: GNU base-256 is decoded here, text that is not octal is an error */
function fieldOf(block: Buffer, at: number, i: number, field: string): number {
  const v = nums[i]!;
  if (v >= 0) return v;
  if (v === -1) return parseNumber(block, FIELDS[i]![0], FIELDS[i]![1], field, at);
  throw new IntegrityError(`invalid tar header at offset ${at}: ${field} is not an octal number`);
}

function slowFieldOf(block: Buffer, at: number, i: number, field: string): number {
  return parseNumber(block, FIELDS[i]![0], FIELDS[i]![1], field, at);
}

/** an aligned copy of the block being summed, read four bytes at a time */
const scratch = new Uint8Array(BLOCK);
const words = new Uint32Array(scratch.buffer);

/**
 * Sum of the header bytes with the checksum field read as spaces; some old tars summed signed chars. The
 * unsigned sum, the common case, adds two 16-bit lanes of byte pairs per 32-bit word (at most 128 × 510 per
 * lane, no carry between them): a quarter of the iterations, which matters in a short-lived process where this
 * runs before the JIT has warmed up.
 */
function checksumOf(block: Buffer, signed: boolean): number {
  let sum = 8 * 0x20;
  if (signed) {
    for (let i = 0; i < 148; i++) sum += (block[i]! << 24) >> 24;
    for (let i = 156; i < BLOCK; i++) sum += (block[i]! << 24) >> 24;
    return sum;
  }
  scratch.set(block.subarray(0, BLOCK));
  let lanes = 0;
  for (let i = 0; i < BLOCK / 4; i++) {
    const w = words[i]!;
    lanes += (w & 0x00ff00ff) + ((w >>> 8) & 0x00ff00ff);
  }
  sum += (lanes & 0xffff) + Math.floor(lanes / 0x10000);
  for (let i = 148; i < 156; i++) sum -= block[i]!;
  return sum;
}

/** A NUL-terminated (or field-filling) string. */
export function cString(buf: Buffer, off: number, len: number): string {
  const end = off + len;
  const nul = buf.indexOf(0, off);
  return buf.toString('utf8', off, nul < 0 || nul > end ? end : nul);
}

/** Octal text (space/NUL padded) or GNU base-256 (high bit set; 0xff marks a negative number). */
function parseNumber(buf: Buffer, off: number, len: number, field: string, at: number): number {
  const first = buf[off]!;
  if (first & 0x80) {
    let value = 0n;
    for (let i = off; i < off + len; i++) value = (value << 8n) | BigInt(buf[i]!);
    const bits = BigInt(8 * len);
    // 0xff...: two's complement over the whole field; 0x80...: the marker bit is not part of the value
    value = first === 0xff ? value - (1n << bits) : value & ((1n << (bits - 1n)) - 1n);
    if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw new IntegrityError(`invalid tar header at offset ${at}: ${field} out of range`);
    }
    return Number(value);
  }
  let i = off;
  const end = off + len;
  while (i < end && (buf[i] === 0x20 || buf[i] === 0)) i++;
  let value = 0;
  for (; i < end; i++) {
    const c = buf[i]!;
    if (c === 0x20 || c === 0) break;
    if (c < 0x30 || c > 0x37) throw new IntegrityError(`invalid tar header at offset ${at}: ${field} is not an octal number`);
    value = value * 8 + (c - 0x30);
  }
  return value;
}

/** What a pax extended header ('x') sets for the next entry. Unknown keys are ignored, as the spec allows. */
export interface PaxRecords {
  path?: string;
  linkpath?: string;
  size?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  atime?: number;
  /** xattr name → raw value (SCHILY.xattr.* values are bytes, e.g. a binary security.capability) */
  xattrs: Map<string, Buffer>;
}

/**
 * Parse pax records (`<len> <key>=<value>\n`) from the raw body, keeping values as bytes: node-tar's own
 * pax parser decodes the body as UTF-8 and drops SCHILY.xattr.* keys, which loses file capabilities.
 */
export function parsePax(body: Buffer, at: number, into: PaxRecords = { xattrs: new Map() }): PaxRecords {
  let pos = 0;
  while (pos < body.length) {
    if (body[pos] === 0) break; // NUL padding after the last record
    const space = body.indexOf(0x20, pos);
    const len = space > pos ? Number(body.toString('latin1', pos, space)) : NaN;
    if (!Number.isSafeInteger(len) || len <= space - pos || pos + len > body.length || body[pos + len - 1] !== 0x0a) {
      throw new IntegrityError(`invalid pax extended header at offset ${at}: malformed record`);
    }
    const record = body.subarray(space + 1, pos + len - 1);
    pos += len;
    const eq = record.indexOf(0x3d);
    if (eq <= 0) throw new IntegrityError(`invalid pax extended header at offset ${at}: record without a key`);
    const key = record.toString('utf8', 0, eq);
    const value = record.subarray(eq + 1);
    applyRecord(into, key, value, at);
  }
  return into;
}

function applyRecord(pax: PaxRecords, key: string, value: Buffer, at: number): void {
  const text = () => value.toString('utf8');
  // an empty value deletes the keyword (falls back to the header field)
  const del = value.length === 0;
  switch (key) {
    case 'path':
      pax.path = del ? undefined : text();
      return;
    case 'linkpath':
      pax.linkpath = del ? undefined : text();
      return;
    case 'size':
    case 'uid':
    case 'gid':
      pax[key] = del ? undefined : paxInteger(key, text(), at);
      return;
    case 'mtime':
    case 'atime':
      pax[key] = del ? undefined : paxTime(key, text(), at);
      return;
  }
  if (key.startsWith('SCHILY.xattr.')) {
    const name = key.slice('SCHILY.xattr.'.length);
    if (del) pax.xattrs.delete(name);
    else pax.xattrs.set(name, Buffer.from(value));
  } else if (key.startsWith('LIBARCHIVE.xattr.')) {
    const name = decodeURIComponent(key.slice('LIBARCHIVE.xattr.'.length));
    if (del) pax.xattrs.delete(name);
    else pax.xattrs.set(name, Buffer.from(value.toString('latin1'), 'base64'));
  } else if (key.startsWith('GNU.sparse.')) {
    throw new TsdockError(`unsupported tar entry at offset ${at}: gnu sparse files are not supported`);
  }
}

function paxInteger(key: string, text: string, at: number): number {
  const n = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(n)) throw new IntegrityError(`invalid pax extended header at offset ${at}: ${key}=${JSON.stringify(text)}`);
  return n;
}

function paxTime(key: string, text: string, at: number): number {
  const n = Number(text);
  if (!/^-?\d+(\.\d+)?$/.test(text) || !Number.isFinite(n)) throw new IntegrityError(`invalid pax extended header at offset ${at}: ${key}=${JSON.stringify(text)}`);
  return n;
}
