import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { describe, it } from 'node:test';
import { gunzipStream } from '../../../src/storage/gunzip.js';
import { gzipInflate } from '../../../src/sys/inflate.js';
import { throughTransform } from './fixtures.js';

// ISA-L comes with the test set-up (scripts/install-deps.sh: libisal-dev); elsewhere only zlib's side runs
const isal = gzipInflate() !== undefined;
const impls = ['zlib', 'isal'] as const;

function gunzip(impl: (typeof impls)[number], input: Buffer, chunk = 4096): Promise<Buffer> {
  return throughTransform(gunzipStream(impl), input, chunk);
}

function sample(): Buffer {
  const text = Buffer.from('the quick brown fox jumps over the lazy dog\n'.repeat(40_000));
  return Buffer.concat([crypto.randomBytes(300_000), text, crypto.randomBytes(1000), Buffer.alloc(3_000_000)]);
}

for (const impl of impls) {
  describe(`gunzipStream (${impl})`, { skip: impl === 'isal' && !isal && 'libisal.so.2 is not installed (apt-get install libisal2)' }, () => {
    it('inflates what zlib made, whatever the input chunks, with a member split anywhere', async () => {
      const a = sample();
      const gz = zlib.gzipSync(a, { level: 6 });
      for (const chunk of [1, 7, 4096, 65536, gz.length]) {
        if (chunk === 1) {
          const small = Buffer.from('tiny member\n'.repeat(300));
          assert.ok((await gunzip(impl, zlib.gzipSync(small), 1)).equals(small));
          continue;
        }
        assert.ok((await gunzip(impl, gz, chunk)).equals(a), `chunks of ${chunk}`);
      }
    });

    it('takes multi-member streams and ignores zero padding after a member, as Node does', async () => {
      const a = sample();
      const b = Buffer.from('member two\n'.repeat(1000));
      const two = Buffer.concat([zlib.gzipSync(a), zlib.gzipSync(b)]);
      assert.ok((await gunzip(impl, two, 65536)).equals(Buffer.concat([a, b])));
      assert.ok((await gunzip(impl, Buffer.concat([zlib.gzipSync(b), Buffer.alloc(700)]))).equals(b));
      // pigz-style: header fields (name, comment, extra) and an empty member
      const named = Buffer.from(zlib.gzipSync(b));
      assert.ok((await gunzip(impl, Buffer.concat([zlib.gzipSync(Buffer.alloc(0)), named]))).equals(b));
    });

    it('holds back while its reader is slow, so a small input cannot fill memory', async () => {
      const big = Buffer.alloc(64 * 1024 * 1024);
      const gz = zlib.gzipSync(big, { level: 9 }); // ~64 KiB
      let peak = 0;
      const t = gunzipStream(impl);
      const fed = pipeline(Readable.from([gz], { objectMode: false }), t);
      let total = 0;
      for await (const c of t) {
        peak = Math.max(peak, t.readableLength);
        total += (c as Buffer).length;
        await new Promise((r) => setImmediate(r));
      }
      await fed;
      assert.equal(total, big.length);
      assert.ok(peak <= 4 * 1024 * 1024, `buffered ${peak}`);
    });

    it('fails on corrupt, truncated and foreign input with zlib words', async () => {
      const gz = zlib.gzipSync(sample());
      const corrupt = Buffer.from(gz);
      corrupt.fill(0x55, 100, 200);
      await assert.rejects(gunzip(impl, corrupt), /./);
      await assert.rejects(gunzip(impl, gz.subarray(0, gz.length - 50)), /unexpected end of file/);
      await assert.rejects(gunzip(impl, gz.subarray(0, gz.length - 4)), /unexpected end of file/);
      await assert.rejects(gunzip(impl, Buffer.alloc(0)), /unexpected end of file/);
      await assert.rejects(gunzip(impl, Buffer.from('this is not gzip at all')), /incorrect header check/);
      const badCrc = Buffer.from(gz);
      badCrc[badCrc.length - 6]! ^= 0xff; // the trailer's CRC-32
      await assert.rejects(gunzip(impl, badCrc), /incorrect data check/);
      const badSize = Buffer.from(gz);
      badSize[badSize.length - 2]! ^= 0x01; // the trailer's size
      await assert.rejects(gunzip(impl, badSize), /incorrect (data|length) check/);
      await assert.rejects(gunzip(impl, Buffer.concat([zlib.gzipSync('x'), Buffer.from('garbage')])), /incorrect header check/);
    });
  });
}

describe('gunzipStream inside a pull\'s chain', { skip: !isal && 'libisal.so.2 is not installed (apt-get install libisal2)' }, () => {
  it('never stalls when its reader pauses and resumes it (a read answered with no output still ends)', async () => {
    // decompressStream's Delegate pauses the inflater when its own reader is full; the unpack reads through a 1 MiB
    // Transform by async iteration, now and then waiting for the event loop (a file body's write)
    const { decompressStream } = await import('../../../src/storage/decompress.js');
    const { Transform } = await import('node:stream');
    const parts: Buffer[] = [];
    for (let i = 0; i < 300; i++) parts.push(i % 3 === 0 ? crypto.randomBytes(40_000) : Buffer.from(`line ${i} `.repeat(20_000)));
    const plain = Buffer.concat(parts);
    const gz = zlib.gzipSync(plain, { level: 6 });
    const chunks: Buffer[] = [];
    for (let i = 0; i < gz.length; i += 65536) chunks.push(gz.subarray(i, i + 65536));
    const meter = () => new Transform({ highWaterMark: 1 << 20, transform: (c, _e, cb) => cb(null, c) });
    const tail = meter();
    const flow = pipeline(Readable.from(chunks, { objectMode: false }), meter(), decompressStream('gzip'), tail);
    const hash = crypto.createHash('sha256');
    let n = 0;
    const read = (async () => {
      for await (const c of tail) {
        hash.update(c as Buffer);
        if (++n % 5 === 0) await new Promise((r) => setImmediate(r));
      }
    })();
    const stalled = new Promise((_r, reject) => setTimeout(() => reject(new Error(`stalled after ${n} chunks`)), 20_000).unref());
    await Promise.race([Promise.all([flow, read]), stalled]);
    assert.equal(hash.digest('hex'), crypto.createHash('sha256').update(plain).digest('hex'));
  });
});
