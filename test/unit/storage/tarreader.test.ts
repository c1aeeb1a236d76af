import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as nodeTar from 'tar';
import { lgetxattr, lsetxattr, mknod } from '../../../src/sys/index.js';
import { ByteSource } from '../../../src/storage/bytesource.js';
import { TarReader, type TarEntry } from '../../../src/storage/tarreader.js';
import { unpackLayer } from '../../../src/storage/unpack.js';
import { buildTar, checksum, header, isRoot, streamOf, tmpDir } from './fixtures.js';

const hasGnuTar = spawnSync('tar', ['--version'], { encoding: 'utf8' }).stdout?.includes('GNU tar') ?? false;

async function entries(tar: Buffer, chunk = 333): Promise<Array<TarEntry & { body: string }>> {
  const reader = new TarReader(new ByteSource(streamOf(tar, chunk)));
  const out: Array<TarEntry & { body: string }> = [];
  for (let e = await reader.next(); e; e = await reader.next()) {
    const parts: Buffer[] = [];
    for await (const p of reader.body()) parts.push(Buffer.from(p));
    out.push({ ...e, body: Buffer.concat(parts).toString() });
  }
  return out;
}

describe('TarReader', () => {
  let dir: string;
  before(() => (dir = tmpDir('tarreader')));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('reads fields, pax overrides and binary xattrs', async () => {
    const cap = Buffer.from([0x01, 0x00, 0x00, 0x02, 0x80, 0xff]);
    const got = await entries(
      buildTar([
        { path: 'a', body: 'hello', mode: 0o4755, uid: 3_000_000, gid: 7, mtime: 1_234_567_890 },
        { path: 'x', body: 'y', xattrs: { 'security.capability': cap }, pax: { mtime: '1.25', uid: '42' } },
        { path: 'n', type: 'char', devmajor: 4095, devminor: 1_048_575 },
      ]),
    );
    assert.equal(got.length, 3);
    assert.deepEqual(
      [got[0]!.type, got[0]!.path, got[0]!.mode, got[0]!.uid, got[0]!.gid, got[0]!.mtime, got[0]!.body],
      ['file', 'a', 0o4755, 3_000_000, 7, 1_234_567_890, 'hello'],
    );
    assert.ok(got[1]!.xattrs.get('security.capability')!.equals(cap));
    assert.deepEqual([got[1]!.mtime, got[1]!.uid], [1.25, 42]);
    assert.deepEqual([got[2]!.type, got[2]!.devmajor, got[2]!.devminor], ['chardev', 4095, 1_048_575]);
  });

  it('ignores pax global headers and tolerates a missing end marker', async () => {
    const g = Buffer.from('22 comment=git archive\n');
    const tar = Buffer.concat([header({ name: 'pax_global_header', typeflag: 'g', size: g.length }), g, Buffer.alloc(512 - g.length), buildTar([{ path: 'f', body: 'x' }], { trailer: false })]);
    const got = await entries(tar);
    assert.deepEqual(
      got.map((e) => e.path),
      ['f'],
    );
  });

  it('gives link, device and directory entries no body whatever their size says (as Go does)', async () => {
    const h = header({ name: 'l', typeflag: '2', size: 0, linkname: 'target' });
    // claim 600 bytes on the symlink: the next header must still be read right after it
    h.write('00000001130\0', 124, 12, 'latin1');
    const tar = Buffer.concat([checksum(h), buildTar([{ path: 'after', body: 'ok' }])]);
    const got = await entries(tar);
    assert.deepEqual(
      got.map((e) => [e.path, e.type]),
      [
        ['l', 'symlink'],
        ['after', 'file'],
      ],
    );
  });

  it('rejects sparse files and unknown entry types', async () => {
    await assert.rejects(entries(buildTar([{ path: 's', type: 'sparse', body: 'x' }])), /unsupported tar entry "s" at offset 0: gnu sparse file/);
    const weird = checksum(header({ name: 'w', typeflag: 'Q', size: 0 }));
    await assert.rejects(entries(Buffer.concat([weird, Buffer.alloc(1024)])), /unsupported tar entry "w" at offset 0: type "Q"/);
  });

  it('checks header checksums, unsigned or (old tars) signed, over every byte of the block', async () => {
    const { decodeHeader } = await import('../../../src/storage/tarheader.js');
    let signedSums = 0;
    for (let n = 0; n < 50; n++) {
      // a valid header with high bytes in the name, the link name and the unused tail (each byte counts)
      const b = header({ name: `é${'\xff'.repeat(n % 20)}x${n}`, typeflag: '0', size: n });
      for (let i = 500 - n; i < 512; i++) b[i] = 0x80 + ((i * 7) % 128);
      checksum(b);
      assert.equal(decodeHeader(b, 0).size, n);
      const signed = Buffer.from(b);
      signed.fill(0x20, 148, 156);
      let sum = 0;
      for (const byte of signed) sum += (byte << 24) >> 24;
      if (sum > 0) {
        signed.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
        assert.equal(decodeHeader(signed, 0).size, n, 'a signed sum is accepted too');
        signedSums++;
      }
      const bad = Buffer.from(b);
      bad[511 - (n % 300)] ^= 1;
      assert.throws(() => decodeHeader(bad, 512), /invalid tar header at offset 512: checksum mismatch/);
    }
    assert.ok(signedSums > 10, `signed sums checked: ${signedSums}`);
  });

  it('errors on a stream that ends inside a header or after an extended header', async () => {
    await assert.rejects(entries(buildTar([{ path: 'f', body: 'x' }]).subarray(0, 300)), /truncated inside the header at offset 0/);
    const paxOnly = buildTar([{ path: 'p'.repeat(150), body: '' }], { trailer: false }).subarray(0, 1024);
    await assert.rejects(entries(paxOnly), /ends after an extended header/);
  });

  it('reads what GNU tar writes (gnu and posix formats, long names, devices, xattrs)', { skip: !hasGnuTar && 'no GNU tar' }, async () => {
    const src = path.join(dir, 'src');
    const long = `${'long-directory-name-'.repeat(6)}/${'file-name-'.repeat(12)}`;
    fs.mkdirSync(path.join(src, path.dirname(long)), { recursive: true });
    fs.writeFileSync(path.join(src, long), 'long');
    fs.writeFileSync(path.join(src, 'x'), 'x');
    lsetxattr(path.join(src, 'x'), 'user.color', Buffer.from([0xff, 0x00, 0x80]));
    if (isRoot) mknod(path.join(src, 'dev'), fs.constants.S_IFCHR | 0o600, 4095, 70000);
    for (const format of ['gnu', 'posix']) {
      const tar = execFileSync('tar', ['-c', `--format=${format}`, '--xattrs', '--xattrs-include=user.*', '-C', src, '.'], { maxBuffer: 1 << 28 });
      const dest = path.join(dir, `out-${format}`);
      fs.mkdirSync(dest);
      await unpackLayer(streamOf(tar, 4096), dest, { whiteouts: 'overlay-root', chown: isRoot });
      assert.equal(fs.readFileSync(path.join(dest, long), 'utf8'), 'long', format);
      if (isRoot) assert.equal(fs.lstatSync(path.join(dest, 'dev')).rdev, fs.lstatSync(path.join(src, 'dev')).rdev, format);
      if (format === 'posix') assert.deepEqual(lgetxattr(path.join(dest, 'x'), 'user.color'), Buffer.from([0xff, 0x00, 0x80]));
    }
  });

  it('reads what node-tar writes', async () => {
    const src = path.join(dir, 'nt');
    fs.mkdirSync(path.join(src, 'sub'), { recursive: true });
    const long = 'n'.repeat(180);
    fs.writeFileSync(path.join(src, 'sub', long), 'from node-tar');
    fs.symlinkSync('sub', path.join(src, 'link'));
    fs.utimesSync(path.join(src, 'sub', long), 1_111_111_111, 1_111_111_111);
    const chunks: Buffer[] = [];
    for await (const c of nodeTar.create({ cwd: src, portable: false }, ['sub', 'link'])) chunks.push(c as Buffer);
    const dest = path.join(dir, 'nt-out');
    fs.mkdirSync(dest);
    await unpackLayer(streamOf(Buffer.concat(chunks)), dest, { whiteouts: 'overlay-root', chown: isRoot });
    assert.equal(fs.readFileSync(path.join(dest, 'sub', long), 'utf8'), 'from node-tar');
    assert.equal(fs.statSync(path.join(dest, 'sub', long)).mtimeMs, 1_111_111_111_000);
    assert.equal(fs.readlinkSync(path.join(dest, 'link')), 'sub');
  });
});
