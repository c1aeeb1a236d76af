/**
 * ADD's own sources: http(s) URLs (fetched whole; docker gives the file mode 0600) and local tar archives
 * (plain, gzip or zstd; recognised by content, as docker does), whose entries land below the destination with
 * their own owners and modes unless `--chown`/`--chmod` say otherwise.
 */
import { constants } from 'node:buffer';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ByteSource } from '../../storage/bytesource.js';
import { decompressStream } from '../../storage/decompress.js';
import { TarReader } from '../../storage/tarreader.js';
import { readBody, request } from '../../image/registry/http.js';
import type { CopyItem, ItemOptions } from './copy-items.js';

const BUFFER_MAX = constants.MAX_LENGTH;

export const isUrl = (s: string): boolean => /^https?:\/\//i.test(s);

/** An ADD URL's body, whole (through the registry's client: redirects, retries, and the extra CAs it trusts). */
export async function fetchUrl(url: string): Promise<Buffer> {
  const res = await request({ url });
  if (res.status < 200 || res.status > 299) {
    res.body.resume();
    throw new Error(`invalid response status ${res.status}`);
  }
  return readBody(res, BUFFER_MAX, url);
}

const DIGEST_HEX: Readonly<Record<string, number>> = { sha256: 64, sha384: 96, sha512: 128 };

/** `ADD --checksum=<algo>:<hex>` checked before anything is fetched: → the algorithm and the hex */
export function parseChecksum(checksum: string): { algo: string; hex: string } {
  const m = /^(sha256|sha384|sha512):([a-f0-9]+)$/.exec(checksum);
  if (!m || m[2]!.length !== DIGEST_HEX[m[1]!]) throw new Error(`invalid checksum digest format ${JSON.stringify(checksum)}: expected sha256:, sha384: or sha512: and the hex digest`);
  return { algo: m[1]!, hex: m[2]! };
}

/** A fetched body against `--checksum`: a mismatch is an error naming both digests. */
export function verifyChecksum(body: Buffer, checksum: string): void {
  const { algo, hex } = parseChecksum(checksum);
  const got = crypto.createHash(algo).update(body).digest('hex');
  if (got !== hex) throw new Error(`digest mismatch: expected ${checksum}, got ${algo}:${got}`);
}

function tarStream(file: string): ByteSource {
  return new ByteSource(fs.createReadStream(file).pipe(decompressStream('auto')));
}

/** A tar archive (after decompression): its first header block carries ustar's magic. */
export async function isArchive(file: string): Promise<boolean> {
  try {
    const block = await tarStream(file).readExact(512);
    return Boolean(block && block.length === 512 && block.subarray(257, 262).toString('latin1') === 'ustar');
  } catch {
    return false;
  }
}

export async function addArchiveItems(file: string, dest: string, opts: ItemOptions): Promise<CopyItem[]> {
  const reader = new TarReader(tarStream(file));
  const out: CopyItem[] = [];
  for (let e = await reader.next(); e; e = await reader.next()) {
    const name = path.posix.normalize(`/${e.path}`).replace(/\/$/, '');
    if (name === '/' || (e.type !== 'file' && e.type !== 'directory' && e.type !== 'symlink')) continue;
    const mtime = Math.floor(opts.epoch === undefined ? e.mtime : Math.min(e.mtime, opts.epoch));
    const base = { dest: path.posix.join(dest, name), uid: opts.owner?.uid ?? e.uid, gid: opts.owner?.gid ?? e.gid, mtime };
    if (e.type === 'file') {
      const chunks: Buffer[] = [];
      for await (const c of reader.body()) chunks.push(Buffer.from(c));
      const body = Buffer.concat(chunks);
      out.push({ ...base, type: 'file', mode: opts.chmod ?? e.mode, size: body.length, body });
    } else if (e.type === 'directory') out.push({ ...base, type: 'directory', mode: opts.chmod ?? e.mode, size: 0 });
    else out.push({ ...base, type: 'symlink', mode: 0o777, size: 0, linkname: e.linkpath });
  }
  return out;
}
