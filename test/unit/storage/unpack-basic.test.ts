import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import zlib from 'node:zlib';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { IntegrityError, TsdockError } from '../../../src/errors.js';
import { lgetxattr } from '../../../src/sys/index.js';
import { decompressStream } from '../../../src/storage/decompress.js';
import { unpackLayer, type UnpackOptions } from '../../../src/storage/unpack.js';
import { buildTar, isRoot, sandbox, streamOf, type FixtureEntry } from './fixtures.js';

const rootOpts: UnpackOptions = { whiteouts: 'overlay-root', chown: isRoot };

describe('unpackLayer', () => {
  let box: ReturnType<typeof sandbox>;
  beforeEach(() => (box = sandbox('unpack')));
  afterEach(() => box.cleanup());

  const unpack = (entries: FixtureEntry[], opts: UnpackOptions = rootOpts) => unpackLayer(streamOf(buildTar(entries)), box.dest, opts);
  const at = (rel: string) => path.join(box.dest, rel);

  it('preserves setuid, setgid and sticky bits', async () => {
    await unpack([
      { path: 'bin/su', body: 'x', mode: 0o4755 },
      { path: 'bin/wall', body: 'x', mode: 0o2755, gid: 5 },
      { path: 'tmp/', type: 'dir', mode: 0o1777 },
      { path: 'bin/', type: 'dir', mode: 0o755 },
      { path: 'secret', body: 's', mode: 0o000 },
    ]);
    assert.equal(fs.statSync(at('bin/su')).mode & 0o7777, 0o4755);
    assert.equal(fs.statSync(at('bin/wall')).mode & 0o7777, 0o2755);
    assert.equal(fs.statSync(at('tmp')).mode & 0o7777, 0o1777);
    assert.equal(fs.statSync(at('secret')).mode & 0o7777, 0o000);
  });

  it('preserves ownership as root, without following symlinks', { skip: !isRoot && 'needs root to chown' }, async () => {
    await unpack([
      { path: 'home/user/', type: 'dir', uid: 1000, gid: 1000, mode: 0o750 },
      { path: 'home/user/file', body: 'x', uid: 1000, gid: 1001, mode: 0o6755 },
      { path: 'home/user/link', type: 'symlink', linkpath: '/etc/passwd', uid: 1000, gid: 1000 },
      { path: 'big-ids', body: 'x', uid: 3_000_000, gid: 3_000_001 },
    ]);
    const dir = fs.statSync(at('home/user'));
    assert.deepEqual([dir.uid, dir.gid, dir.mode & 0o7777], [1000, 1000, 0o750]);
    const file = fs.statSync(at('home/user/file'));
    // chmod after chown: chown clears setuid/setgid, the mode must still carry them
    assert.deepEqual([file.uid, file.gid, file.mode & 0o7777], [1000, 1001, 0o6755]);
    const link = fs.lstatSync(at('home/user/link'));
    assert.deepEqual([link.uid, link.gid], [1000, 1000]);
    assert.equal(fs.statSync('/etc/passwd').uid, 0);
    const big = fs.statSync(at('big-ids'));
    assert.deepEqual([big.uid, big.gid], [3_000_000, 3_000_001]);
  });

  it('applies idMap to ownership', { skip: !isRoot && 'needs root to chown' }, async () => {
    await unpack([{ path: 'f', body: 'x', uid: 1000, gid: 50 }, { path: 'd/', type: 'dir' }], {
      ...rootOpts,
      idMap: (uid, gid) => ({ uid: uid + 100_000, gid: gid + 100_000 }),
    });
    const st = fs.statSync(at('f'));
    assert.deepEqual([st.uid, st.gid], [101_000, 100_050]);
    assert.deepEqual([fs.statSync(at('d')).uid, fs.statSync(at('d')).gid], [100_000, 100_000]);
  });

  it('keeps files ours when chown is off', async () => {
    await unpack([{ path: 'f', body: 'x', uid: 1234, gid: 1234 }], { ...rootOpts, chown: false });
    assert.equal(fs.statSync(at('f')).uid, process.getuid!());
  });

  it('handles paths longer than 100 bytes (pax and gnu long names)', async () => {
    const deep = `${'d'.repeat(60)}/${'e'.repeat(70)}/${'f'.repeat(80)}`;
    const gnu = `${'g'.repeat(120)}/file`;
    const target = `${'t'.repeat(150)}`;
    await unpack([
      { path: `${deep}/file.txt`, body: 'pax' },
      { path: gnu, body: 'gnu', gnuLongName: true },
      { path: 'longlink', type: 'symlink', linkpath: target, pax: { linkpath: target } },
    ]);
    assert.equal(fs.readFileSync(at(`${deep}/file.txt`), 'utf8'), 'pax');
    assert.equal(fs.readFileSync(at(gnu), 'utf8'), 'gnu');
    assert.equal(fs.readlinkSync(at('longlink')), target);
  });

  it('preserves mtimes of files, symlinks and directories (set after their children)', async () => {
    await unpack([
      { path: 'a/b/c/file', body: 'x', mtime: 1_000_000_001 },
      { path: 'a/b/c/link', type: 'symlink', linkpath: 'file', mtime: 1_000_000_002 },
      { path: 'a/b/c/', type: 'dir', mtime: 1_000_000_003, mode: 0o700 },
      { path: 'a/b/', type: 'dir', mtime: 1_000_000_004, mode: 0o555 },
      { path: 'a/', type: 'dir', mtime: 1_000_000_005, mode: 0o750 },
      { path: 'a/late', body: 'y', mtime: 1_000_000_006, pax: { mtime: '1000000006.5' } },
    ]);
    assert.equal(fs.statSync(at('a/b/c/file')).mtimeMs, 1_000_000_001_000);
    assert.equal(fs.lstatSync(at('a/b/c/link')).mtimeMs, 1_000_000_002_000);
    assert.equal(fs.statSync(at('a/b/c')).mtimeMs, 1_000_000_003_000);
    assert.equal(fs.statSync(at('a/b')).mtimeMs, 1_000_000_004_000);
    assert.equal(fs.statSync(at('a')).mtimeMs, 1_000_000_005_000);
    assert.equal(fs.statSync(at('a/late')).mtimeMs, 1_000_000_006_500);
    assert.equal(fs.statSync(at('a/b')).mode & 0o7777, 0o555);
    assert.equal(fs.statSync(at('a/b/c')).mode & 0o7777, 0o700);
  });

  it('creates missing parents 0755 and fixes a directory that arrives after its children', async () => {
    await unpack([
      { path: 'x/y/file', body: 'x' },
      { path: 'x/', type: 'dir', mode: 0o711, uid: 0, gid: 0 },
    ]);
    assert.equal(fs.statSync(at('x')).mode & 0o7777, 0o711);
    assert.equal(fs.statSync(at('x/y')).mode & 0o7777, 0o755);
  });

  it('lets a later entry replace an earlier one; a directory over a directory merges', async () => {
    await unpack([
      { path: 'f', body: 'first' },
      { path: 'f', body: 'second', mode: 0o600 },
      { path: 'file-then-dir', body: 'x' },
      { path: 'file-then-dir/', type: 'dir' },
      { path: 'file-then-dir/inner', body: 'in' },
      { path: 'dir-then-file/', type: 'dir' },
      { path: 'dir-then-file/child', body: 'gone' },
      { path: 'dir-then-file', body: 'now a file' },
      { path: 'merge/', type: 'dir', mode: 0o755 },
      { path: 'merge/kept', body: 'k' },
      { path: 'merge/', type: 'dir', mode: 0o700 },
      { path: 'link', type: 'symlink', linkpath: 'f' },
      { path: 'link', type: 'symlink', linkpath: 'other' },
    ]);
    assert.equal(fs.readFileSync(at('f'), 'utf8'), 'second');
    assert.equal(fs.statSync(at('f')).mode & 0o777, 0o600);
    assert.equal(fs.readFileSync(at('file-then-dir/inner'), 'utf8'), 'in');
    assert.equal(fs.readFileSync(at('dir-then-file'), 'utf8'), 'now a file');
    assert.equal(fs.readFileSync(at('merge/kept'), 'utf8'), 'k');
    assert.equal(fs.statSync(at('merge')).mode & 0o777, 0o700);
    assert.equal(fs.readlinkSync(at('link')), 'other');
  });

  it('makes hardlinks to files inside the layer share the inode', async () => {
    await unpack([
      { path: 'bin/busybox', body: 'bb', mode: 0o755 },
      { path: 'bin/sh', type: 'link', linkpath: 'bin/busybox' },
      { path: 'usr/bin/env', type: 'link', linkpath: '/bin/busybox' },
      { path: 'sym', type: 'symlink', linkpath: '/nowhere' },
      { path: 'sym-hard', type: 'link', linkpath: 'sym' },
    ]);
    const a = fs.statSync(at('bin/busybox'));
    assert.equal(fs.statSync(at('bin/sh')).ino, a.ino);
    assert.equal(fs.statSync(at('usr/bin/env')).ino, a.ino);
    assert.equal(a.nlink, 3);
    assert.equal(fs.readlinkSync(at('sym-hard')), '/nowhere');
  });

  it('writes large files intact and counts entries and bytes', async () => {
    const big = crypto.randomBytes(3 * 1024 * 1024 + 123);
    const mid = crypto.randomBytes(100 * 1024);
    const stats = await unpack([
      { path: 'big', body: big },
      { path: 'mid', body: mid },
      { path: 'empty', body: '' },
      { path: 'd/', type: 'dir' },
    ]);
    assert.ok(fs.readFileSync(at('big')).equals(big));
    assert.ok(fs.readFileSync(at('mid')).equals(mid));
    assert.equal(fs.statSync(at('empty')).size, 0);
    assert.equal(stats.entries, 4);
    assert.equal(stats.bytes, big.length + mid.length);
  });

  it('sets xattrs: binary values, capabilities after chown; never overlay ones', async () => {
    const bin = Buffer.from([0x80, 0x00, 0xff, 0x01, 0xc3]);
    // VFS_CAP_REVISION_2, cap_net_raw permitted+effective
    const cap = Buffer.from([0x01, 0x00, 0x00, 0x02, 0x00, 0x20, 0x00, 0x00, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    const stats = await unpack([
      { path: 'f', body: 'x', xattrs: { 'user.bin': bin, 'user.text': 'hello' } },
      { path: 'ro', body: 'x', mode: 0o444, xattrs: { 'user.ro': 'set before the mode' } },
      { path: 'ping', body: 'x', mode: 0o755, uid: 0, xattrs: isRoot ? { 'security.capability': cap } : {} },
      { path: 'd/', type: 'dir', xattrs: { 'trusted.overlay.opaque': 'y', 'user.overlay.redirect': '/x', 'user.d': '1' } },
      { path: 'l', type: 'symlink', linkpath: 'f', xattrs: { 'user.no': 'symlinks cannot have user xattrs' } },
    ]);
    assert.ok(lgetxattr(at('f'), 'user.bin')!.equals(bin));
    assert.equal(lgetxattr(at('f'), 'user.text')!.toString(), 'hello');
    assert.equal(lgetxattr(at('ro'), 'user.ro')!.toString(), 'set before the mode');
    assert.equal(lgetxattr(at('d'), 'user.d')!.toString(), '1');
    assert.equal(lgetxattr(at('d'), 'trusted.overlay.opaque'), undefined);
    assert.equal(lgetxattr(at('d'), 'user.overlay.redirect'), undefined);
    if (isRoot) assert.ok(lgetxattr(at('ping'), 'security.capability')!.equals(cap));
    assert.equal(stats.skippedXattrs, 3);
  });

  it('creates fifos, and device nodes when privileged', async () => {
    const stats = await unpack([
      { path: 'dev/null', type: 'char', devmajor: 1, devminor: 3, mode: 0o666 },
      { path: 'dev/loop0', type: 'block', devmajor: 7, devminor: 0, mode: 0o660 },
      { path: 'run/fifo', type: 'fifo', mode: 0o620 },
    ]);
    assert.ok(fs.lstatSync(at('run/fifo')).isFIFO());
    assert.equal(fs.lstatSync(at('run/fifo')).mode & 0o777, 0o620);
    if (isRoot) {
      const nul = fs.lstatSync(at('dev/null'));
      assert.ok(nul.isCharacterDevice());
      assert.equal(nul.rdev, 259); // makedev(1, 3)
      assert.equal(nul.mode & 0o777, 0o666);
      assert.ok(fs.lstatSync(at('dev/loop0')).isBlockDevice());
      assert.equal(stats.skippedDevices, 0);
    } else {
      assert.equal(stats.skippedDevices, 2);
    }
  });

  it('ignores the layer root entry', async () => {
    const before = fs.statSync(box.dest).mode;
    await unpack([{ path: './', type: 'dir', mode: 0o700 }, { path: './a', body: 'a' }]);
    assert.equal(fs.statSync(box.dest).mode, before);
    assert.equal(fs.readFileSync(at('a'), 'utf8'), 'a');
  });

  it('reads the whole stream, padding after the end marker included', async () => {
    const tar = buildTar([{ path: 'a', body: 'a' }], { padTo: 10240 });
    const stream = streamOf(tar, 1000);
    let read = 0;
    stream.on('data', (c: Buffer) => (read += c.length));
    await unpackLayer(stream, box.dest, rootOpts);
    assert.equal(read, tar.length);
    assert.equal(stream.readableLength, 0);
  });

  it('fails clearly on truncated and corrupt archives', async () => {
    const tar = buildTar([{ path: 'file', body: crypto.randomBytes(5000) }], { trailer: false });
    await assert.rejects(unpackLayer(streamOf(tar.subarray(0, 3000)), box.dest, rootOpts), (err: unknown) => {
      assert.ok(err instanceof IntegrityError);
      assert.match(err.message, /tar stream truncated: entry "file" ends before its 5000 bytes/);
      return true;
    });
    const bad = buildTar([{ path: 'x', body: 'x' }]);
    bad[10] ^= 0xff;
    fs.rmSync(box.dest, { recursive: true });
    fs.mkdirSync(box.dest);
    await assert.rejects(unpackLayer(streamOf(bad), box.dest, rootOpts), /invalid tar header at offset 0: checksum mismatch/);
  });

  it('fails on a corrupt gzip layer, destroying the stream', async () => {
    const gz = zlib.gzipSync(buildTar([{ path: 'f', body: crypto.randomBytes(200_000) }]));
    gz.fill(0x42, 500, 600);
    const source = streamOf(gz, 4096);
    await assert.rejects(unpackLayer(source.pipe(decompressStream('gzip')), box.dest, rootOpts), (err: unknown) => {
      assert.ok(err instanceof IntegrityError, String(err));
      assert.match(err.message, /^gzip: /);
      return true;
    });
  });

  it('refuses a destination that is not empty', async () => {
    fs.writeFileSync(at('leftover'), '');
    await assert.rejects(unpack([{ path: 'a', body: 'a' }]), (err: unknown) => err instanceof TsdockError && /not empty/.test(err.message));
  });

  it('stops when aborted', async () => {
    const ac = new AbortController();
    ac.abort(new Error('cancelled by test'));
    await assert.rejects(unpack([{ path: 'a', body: 'a' }], { ...rootOpts, signal: ac.signal }), /cancelled by test/);
  });

  it('stops promptly when aborted while the stream stalls', async () => {
    const stalled = new PassThrough();
    stalled.write(buildTar([{ path: 'a', body: 'a' }], { trailer: false }));
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error('stalled download cancelled')), 30);
    await assert.rejects(unpackLayer(stalled, box.dest, { ...rootOpts, signal: ac.signal }), /stalled download cancelled/);
    assert.ok(stalled.destroyed);
  });
});
