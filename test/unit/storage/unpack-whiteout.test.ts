import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { lgetxattr } from '../../../src/sys/index.js';
import { unpackLayer, type UnpackOptions } from '../../../src/storage/unpack.js';
import { buildTar, isRoot, sandbox, streamOf, type FixtureEntry } from './fixtures.js';

describe('unpackLayer whiteouts', () => {
  let box: ReturnType<typeof sandbox>;
  beforeEach(() => (box = sandbox('wh')));
  afterEach(() => box.cleanup());

  const unpack = (entries: FixtureEntry[], whiteouts: UnpackOptions['whiteouts'] = 'overlay-root') =>
    unpackLayer(streamOf(buildTar(entries)), box.dest, { whiteouts, chown: false });
  const at = (rel: string) => path.join(box.dest, rel);

  function assertWhiteout(rel: string): void {
    const st = fs.lstatSync(at(rel));
    assert.ok(st.isCharacterDevice(), `${rel} should be a character device`);
    assert.equal(st.rdev, 0, `${rel} should be device 0/0`);
  }

  it('turns .wh.<name> into a 0/0 character device and drops the marker', async () => {
    const stats = await unpack([
      { path: 'etc/', type: 'dir' },
      { path: 'etc/.wh.motd' },
      { path: 'usr/share/doc/.wh.pkg' }, // parent not listed: created
      { path: '.wh.top' },
    ]);
    assertWhiteout('etc/motd');
    assertWhiteout('usr/share/doc/pkg');
    assertWhiteout('top');
    assert.deepEqual(fs.readdirSync(at('etc')), ['motd']);
    assert.equal(fs.existsSync(at('.wh.top')), false);
    assert.equal(stats.entries, 4);
  });

  it('marks opaque directories with trusted.overlay.opaque (rootful)', { skip: !isRoot && 'trusted.* xattrs need CAP_SYS_ADMIN' }, async () => {
    await unpack([
      { path: 'var/lib/', type: 'dir', mode: 0o751 },
      { path: 'var/lib/.wh..wh..opq' },
      { path: 'var/lib/fresh', body: 'x' },
      { path: 'implicit/.wh..wh..opq' },
      { path: '.wh..wh..opq' },
    ]);
    assert.equal(lgetxattr(at('var/lib'), 'trusted.overlay.opaque')?.toString(), 'y');
    assert.equal(lgetxattr(at('implicit'), 'trusted.overlay.opaque')?.toString(), 'y');
    assert.equal(lgetxattr(box.dest, 'trusted.overlay.opaque')?.toString(), 'y');
    assert.deepEqual(fs.readdirSync(at('var/lib')), ['fresh']);
    assert.equal(fs.statSync(at('var/lib')).mode & 0o777, 0o751);
  });

  it('uses user.overlay.opaque for rootless layers', async () => {
    await unpack([{ path: 'd/.wh..wh..opq' }, { path: 'd/.wh.f' }], 'overlay-user');
    assert.equal(lgetxattr(at('d'), 'user.overlay.opaque')?.toString(), 'y');
    if (isRoot) assert.equal(lgetxattr(at('d'), 'trusted.overlay.opaque'), undefined);
    assertWhiteout('d/f');
  });

  it('lets a file of the same layer win over its whiteout, in either order', async () => {
    await unpack([
      { path: 'a', body: 'kept' },
      { path: '.wh.a' },
      { path: '.wh.b' },
      { path: 'b', body: 'also kept' },
    ]);
    assert.equal(fs.readFileSync(at('a'), 'utf8'), 'kept');
    assert.equal(fs.readFileSync(at('b'), 'utf8'), 'also kept');
  });

  it('drops aufs bookkeeping, keeping hardlinks into .wh..wh.plnk working', async () => {
    await unpack([
      { path: '.wh..wh.plnk/', type: 'dir' },
      { path: '.wh..wh.plnk/123.456', body: 'linked' },
      { path: '.wh..wh.aufs' },
      { path: '.wh..wh.orph/', type: 'dir' },
      { path: 'bin/x', type: 'link', linkpath: '.wh..wh.plnk/123.456' },
    ]);
    assert.deepEqual(fs.readdirSync(box.dest), ['bin']);
    assert.equal(fs.readFileSync(at('bin/x'), 'utf8'), 'linked');
  });
});
