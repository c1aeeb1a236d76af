import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import zlib from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { decompressStream, sniffCompression, type Compression } from '../../../src/storage/decompress.js';
import { throughTransform, tmpDir } from './fixtures.js';

const hasZstd = spawnSync('zstd', ['--version']).status === 0;

function run(kind: Compression | 'auto', input: Buffer, chunk = 4096): Promise<Buffer> {
  return throughTransform(decompressStream(kind), input, chunk);
}

function sample(): Buffer {
  const text = Buffer.from('the quick brown fox jumps over the lazy dog\n'.repeat(40_000));
  return Buffer.concat([crypto.randomBytes(300_000), text, crypto.randomBytes(1000), Buffer.alloc(500_000)]);
}

describe('decompressStream', () => {
  let dir: string;
  before(() => (dir = tmpDir('zstd')));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  function zstd(data: Buffer, args: string[] = []): Buffer {
    const file = path.join(dir, `in-${crypto.randomBytes(4).toString('hex')}`);
    fs.writeFileSync(file, data);
    return execFileSync('zstd', ['-q', '-c', ...args, file], { maxBuffer: 1 << 30 });
  }

  it('decompresses what the zstd binary produces', { skip: !hasZstd && 'no zstd binary' }, async () => {
    const data = sample();
    for (const args of [[], ['-19'], ['--no-check', '-1'], ['--long=27']]) {
      const got = await run('zstd', zstd(data, args));
      assert.ok(got.equals(data), `zstd ${args.join(' ')}`);
    }
    assert.ok((await run('auto', zstd(data), 65536)).equals(data));
    assert.ok((await run('zstd', zstd(data), 1)).subarray(0, 1000).equals(data.subarray(0, 1000)));
  });

  it('decompresses byte-by-byte input', { skip: !hasZstd && 'no zstd binary' }, async () => {
    const data = Buffer.from('tiny input, fed one byte at a time '.repeat(50));
    assert.ok((await run('zstd', zstd(data), 1)).equals(data));
  });

  it('handles multi-frame streams and skippable frames', { skip: !hasZstd && 'no zstd binary' }, async () => {
    const a = crypto.randomBytes(70_000);
    const b = Buffer.from('second frame '.repeat(10_000));
    const skippable = Buffer.concat([Buffer.from([0x50, 0x2a, 0x4d, 0x18]), Buffer.from([5, 0, 0, 0]), Buffer.from('skip!')]);
    const stream = Buffer.concat([zstd(a), skippable, zstd(b), zstd(Buffer.alloc(0))]);
    assert.ok((await run('zstd', stream, 1000)).equals(Buffer.concat([a, b])));
  });

  it('fails on corrupt and truncated zstd', { skip: !hasZstd && 'no zstd binary' }, async () => {
    const good = zstd(sample());
    await assert.rejects(run('zstd', good.subarray(0, good.length - 100)), /zstd: the stream ends inside a frame/);
    await assert.rejects(run('zstd', good.subarray(0, 10)), /zstd: /);
    const badMagic = Buffer.from(good);
    badMagic[0] = 0x29;
    await assert.rejects(run('zstd', badMagic), /zstd: invalid data/);
    // frame header (no checksum, 1 KiB window) then a last block of the reserved type 3
    const reservedBlock = Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x00, 0x07, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    await assert.rejects(run('zstd', reservedBlock), /zstd: invalid block type/);
    // fzstd does not verify frame checksums: content damage inside a raw block is caught by the layer
    // digests (compressed digest and diff_id), not here
    await assert.rejects(run('zstd', Buffer.concat([good, Buffer.from('trailing garbage!!')])), /zstd: invalid data/);
    await assert.rejects(run('zstd', Buffer.alloc(0)), /zstd: empty input/);
  });

  it('keeps memory bounded on a zstd bomb while the reader is slow', { skip: !hasZstd && 'no zstd binary' }, async () => {
    const bomb = zstd(Buffer.alloc(256 * 1024 * 1024)); // a few KiB
    assert.ok(bomb.length < 64 * 1024);
    const d = decompressStream('zstd');
    let total = 0;
    d.end(bomb);
    await sleep(50);
    // nobody reads: only the high-water mark plus one slice's output may be buffered
    assert.ok(d.readableLength <= 40 * 1024 * 1024, `buffered ${d.readableLength}`);
    for await (const c of d) total += (c as Buffer).length;
    assert.equal(total, 256 * 1024 * 1024);
  });

  it('decompresses gzip, multi-member included', async () => {
    const a = sample();
    const b = Buffer.from('member two\n'.repeat(1000));
    assert.ok((await run('gzip', zlib.gzipSync(a))).equals(a));
    assert.ok((await run('gzip', Buffer.concat([zlib.gzipSync(a), zlib.gzipSync(b)]))).equals(Buffer.concat([a, b])));
    assert.ok((await run('auto', zlib.gzipSync(b), 1)).equals(b));
  });

  it('fails on corrupt and truncated gzip', async () => {
    const gz = zlib.gzipSync(sample());
    const corrupt = Buffer.from(gz);
    corrupt.fill(0x55, 100, 200);
    await assert.rejects(run('gzip', corrupt), /gzip: /);
    await assert.rejects(run('gzip', gz.subarray(0, gz.length - 50)), /gzip: the stream ends inside a member \(truncated\)/);
    await assert.rejects(run('gzip', Buffer.from('this is not gzip at all')), /gzip: incorrect header check/);
    await assert.rejects(run('auto', corrupt), /gzip: /);
  });

  it('passes uncompressed data through, also when sniffing', async () => {
    const tar = Buffer.concat([Buffer.from('etc/passwd'), Buffer.alloc(10_000, 1)]);
    assert.ok((await run('none', tar)).equals(tar));
    assert.ok((await run('auto', tar, 3)).equals(tar));
    assert.ok((await run('auto', Buffer.from([0x1f]))).equals(Buffer.from([0x1f])));
    assert.equal((await run('auto', Buffer.alloc(0))).length, 0);
  });

  it('sniffs magic bytes', () => {
    assert.equal(sniffCompression(Buffer.from([0x1f, 0x8b, 8])), 'gzip');
    assert.equal(sniffCompression(Buffer.from([0x28, 0xb5, 0x2f, 0xfd])), 'zstd');
    assert.equal(sniffCompression(Buffer.from([0x28, 0xb5])), undefined);
    assert.equal(sniffCompression(Buffer.from([0x28, 0xb5]), true), 'none');
    assert.equal(sniffCompression(Buffer.from('bin/')), 'none');
  });
});
