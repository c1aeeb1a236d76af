import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { describe, it } from 'node:test';
import { addon } from '../../../src/sys/addon.js';
import { decodeHeader } from '../../../src/storage/tarheader.js';
import { checksum, header } from './fixtures.js';

/** decodeHeader's result, or its error message */
function outcome(block: Buffer, viaAddon: boolean): unknown {
  try {
    return decodeHeader(block, 1024, viaAddon);
  } catch (err) {
    return `error: ${(err as Error).message}`;
  }
}

describe('decodeHeader through the addon', () => {
  it('the addon has tarHeader (npm run build makes it)', () => {
    assert.equal(typeof addon()?.tarHeader, 'function', 'native/build/tsdock-sys.node lacks tarHeader: run npm run build');
  });

  it('reads every header as the JavaScript reading does: valid, base-256, GNU, v7, signed sums, and 20,000 mutations', () => {
    const blocks: Buffer[] = [
      checksum(header({ name: 'bin/sh', typeflag: '2', size: 0, linkname: 'busybox' })),
      checksum(header({ name: 'big', typeflag: '0', size: 9 * 8 ** 11, uid: 8 ** 8, mtime: 2 ** 40 })), // base-256
      checksum(header({ name: 'dev/null', typeflag: '3', size: 0 })),
    ];
    const gnu = header({ name: 'gnu', typeflag: '0', size: 5 });
    gnu.write('ustar  \0', 257, 8, 'latin1');
    gnu.write('00000000012\0', 345, 12, 'latin1'); // GNU atime
    blocks.push(checksum(gnu));
    const v7 = header({ name: 'v7', typeflag: '0', size: 3 });
    v7.fill(0, 257, 512);
    v7.write('garbage!', 329, 8, 'latin1'); // not read outside ustar/gnu
    blocks.push(checksum(v7));
    const signed = header({ name: 'caf\u00e9', typeflag: '0', size: 1 });
    signed[120] = 0xe9; // a high byte: an old tar summed it signed
    signed.fill(0x20, 148, 156);
    let sum = 0;
    for (const byte of signed) sum += (byte << 24) >> 24;
    signed.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
    blocks.push(signed);
    for (const b of blocks) assert.deepEqual(outcome(b, true), outcome(b, false));
    // mutations: a byte or two anywhere (numbers, checksum, magic), with and without a fixed-up checksum
    let errors = 0;
    for (let i = 0; i < 20_000; i++) {
      const b = Buffer.from(blocks[i % blocks.length]!);
      const n = 1 + (i % 2);
      for (let k = 0; k < n; k++) b[crypto.randomInt(0, 512)] = crypto.randomInt(0, 256);
      if (i % 3 === 0) checksum(b);
      const [a, js] = [outcome(b, true), outcome(b, false)];
      assert.deepEqual(a, js, `block ${b.toString('hex')}`);
      if (typeof js === 'string') errors++;
    }
    assert.ok(errors > 1000, `the mutations reach the error paths too (${errors})`);
  });
});
