import { addon } from './addon.js';

/**
 * The numbers of a 512-byte tar header block, read by the addon (native/addon/tarheader.c) into `out`: mode, uid,
 * gid, size, mtime, chksum, devmajor, devminor, GNU atime (each a value, -1 for GNU base-256, NaN for anything
 * that is not octal text), then the block's unsigned and signed sums with the checksum field as spaces. False
 * when the addon does not have it: storage/tarheader.ts then reads them itself.
 */
export function tarHeaderNumbers(block: Buffer, out: Float64Array): boolean {
  if (loaded === undefined) {
    const a = addon();
    loaded = a?.tarHeader ? a.tarHeader.bind(a) : null;
  }
  return loaded !== null && loaded(block, out) === 0;
}

/** the addon's function, or null when it has none (not looked for again) */
let loaded: ((block: Buffer, out: Float64Array) => number) | null | undefined;
