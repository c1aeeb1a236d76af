import { addon } from './addon.js';

/**
 * The numbers of a 512-byte tar header block, read by the addon (native/addon/tarheader.c) into `out`: mode, uid,
 * gid, size, mtime, chksum, devmajor, devminor, GNU atime (each a value, -1 for GNU base-256, NaN for anything
 * that is not octal text), then the block's unsigned and signed sums with the checksum field as spaces. False
 * when the addon does not have it: storage/tarheader.ts then reads them itself.
 */
export function tarHeaderNumbers(block: Buffer, out: Float64Array): boolean {
  const fast = (loaded ??= addon()?.tarHeader?.bind(addon()) ?? null);
  return fast !== null && fast(block, out) === 0;
}

let loaded: ((block: Buffer, out: Float64Array) => number) | null | undefined;
