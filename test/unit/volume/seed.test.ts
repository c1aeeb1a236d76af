import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { lgetxattr, llistxattr, lsetxattr, mknod } from '../../../src/sys/index.js';
import { VolumeStore } from '../../../src/volume/store.js';
import { seedVolume } from '../../../src/volume/seed.js';

const isRoot = process.getuid?.() === 0;
const T1 = new Date('2001-02-03T04:05:06Z');
const T2 = new Date('2010-01-01T00:00:00Z');

describe('volume/seed: copying image content into a new volume', () => {
  let root: string;
  let lower: string;
  let upper: string;
  let store: VolumeStore;

  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdock-seed-'));
    store = new VolumeStore(root);
    lower = path.join(root, 'layers', 'lower');
    upper = path.join(root, 'layers', 'upper');
    const L = (p: string) => path.join(lower, p);
    const U = (p: string) => path.join(upper, p);
    fs.mkdirSync(L('srv/data/sub/deeper'), { recursive: true });
    fs.writeFileSync(L('srv/data/app'), '#!/bin/sh\necho hi\n');
    fs.linkSync(L('srv/data/app'), L('srv/data/app-hardlink'));
    fs.symlinkSync('app', L('srv/data/app-symlink'));
    fs.symlinkSync('/etc/passwd', L('srv/data/abs-symlink'));
    fs.writeFileSync(L('srv/data/sub/deeper/file'), 'deep');
    fs.writeFileSync(L('srv/data/gone'), 'whited out above');
    fs.mkdirSync(L('srv/data/opaque'));
    fs.writeFileSync(L('srv/data/opaque/hidden'), 'hidden by the opaque dir above');
    mknod(L('srv/data/fifo'), fs.constants.S_IFIFO | 0o640);
    fs.symlinkSync('/srv/data', L('data-link'));
    // upper layer: a whiteout, an opaque directory, a new file
    fs.mkdirSync(U('srv/data/opaque'), { recursive: true });
    lsetxattr(U('srv/data/opaque'), 'user.overlay.opaque', Buffer.from('y'));
    fs.writeFileSync(U('srv/data/opaque/visible'), 'v');
    mknod(U('srv/data/gone'), fs.constants.S_IFCHR, 0, 0);
    fs.writeFileSync(U('srv/data/new'), 'added above');
    // attributes
    fs.chmodSync(L('srv/data/app'), 0o4755);
    lsetxattr(L('srv/data/app'), 'user.comment', Buffer.from('hello'));
    fs.chmodSync(L('srv/data/sub'), 0o2750);
    fs.chmodSync(U('srv/data'), 0o1777);
    if (isRoot) {
      fs.lchownSync(L('srv/data/app'), 1000, 1001);
      fs.lchownSync(L('srv/data/app-symlink'), 1002, 1003);
      fs.lchownSync(L('srv/data/sub'), 1004, 1005);
      fs.lchownSync(U('srv/data'), 1006, 1007);
      fs.chmodSync(L('srv/data/app'), 0o4755); // chown cleared setuid
      lsetxattr(L('srv/data/app'), 'trusted.tsdock-test', Buffer.from('t'));
    }
    fs.utimesSync(L('srv/data/app'), T1, T1);
    fs.lutimesSync(L('srv/data/app-symlink'), T1, T1);
    fs.utimesSync(L('srv/data/sub/deeper'), T1, T1);
    fs.utimesSync(L('srv/data/sub'), T2, T2);
    fs.utimesSync(U('srv/data'), T2, T2);
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  const layers = () => [upper, lower];
  const list = (d: string): string[] =>
    fs
      .readdirSync(d, { withFileTypes: true })
      .flatMap((e) => [e.name, ...(e.isDirectory() ? list(path.join(d, e.name)).map((c) => `${e.name}/${c}`) : [])])
      .sort();

  it('copies the merged view: files, dirs, symlinks, hardlinks, fifos; whiteouts and opaque dirs respected', async () => {
    const v = await store.createVolume('seeded');
    const r = await seedVolume(v.Mountpoint, layers(), '/srv/data');
    assert.equal(r.seeded, true);
    const d = v.Mountpoint;
    assert.deepEqual(list(d), ['abs-symlink', 'app', 'app-hardlink', 'app-symlink', 'fifo', 'new', 'opaque', 'opaque/visible', 'sub', 'sub/deeper', 'sub/deeper/file']);
    assert.equal(fs.readFileSync(path.join(d, 'app'), 'utf8'), '#!/bin/sh\necho hi\n');
    assert.equal(fs.readFileSync(path.join(d, 'new'), 'utf8'), 'added above');
    assert.equal(fs.readlinkSync(path.join(d, 'app-symlink')), 'app');
    assert.equal(fs.readlinkSync(path.join(d, 'abs-symlink')), '/etc/passwd', 'targets are copied verbatim');
    assert.equal(fs.statSync(path.join(d, 'app-hardlink')).ino, fs.statSync(path.join(d, 'app')).ino);
    assert.ok(fs.lstatSync(path.join(d, 'fifo')).isFIFO());
    assert.equal(fs.lstatSync(path.join(d, 'fifo')).mode & 0o7777, 0o640);
    assert.equal(r.stats.bytes, '#!/bin/sh\necho hi\n'.length + 'added above'.length + 'deep'.length + 1);
    // no overlay markers or staging leftovers
    assert.deepEqual(llistxattr(path.join(d, 'opaque')).filter((n) => n.includes('overlay')), []);
    assert.deepEqual(fs.readdirSync(path.dirname(d)).sort(), ['.seed.lock', '_data', 'volume.json']);
  });

  it('keeps modes (setuid, setgid, sticky), mtimes and xattrs; the volume root takes the image directory\'s', async () => {
    const v = await store.createVolume('attrs');
    await seedVolume(v.Mountpoint, layers(), '/srv/data');
    const d = v.Mountpoint;
    assert.equal(fs.statSync(path.join(d, 'app')).mode & 0o7777, 0o4755);
    assert.equal(fs.statSync(path.join(d, 'sub')).mode & 0o7777, 0o2750);
    assert.equal(fs.statSync(d).mode & 0o7777, 0o1777, 'root of the volume: mode of the image directory');
    assert.equal(fs.statSync(path.join(d, 'app')).mtime.getTime(), T1.getTime());
    assert.equal(fs.lstatSync(path.join(d, 'app-symlink')).mtime.getTime(), T1.getTime());
    assert.equal(fs.statSync(path.join(d, 'sub', 'deeper')).mtime.getTime(), T1.getTime());
    assert.equal(fs.statSync(path.join(d, 'sub')).mtime.getTime(), T2.getTime(), 'directory times set after their contents');
    assert.equal(fs.statSync(d).mtime.getTime(), T2.getTime());
    assert.equal(lgetxattr(path.join(d, 'app'), 'user.comment')?.toString(), 'hello');
  });

  it('keeps owners (lchown), including the volume root', { skip: !isRoot && 'chown to other ids needs root' }, async () => {
    const v = await store.createVolume('owners');
    await seedVolume(v.Mountpoint, layers(), '/srv/data');
    const d = v.Mountpoint;
    const owner = (p: string) => {
      const st = fs.lstatSync(p);
      return [st.uid, st.gid];
    };
    assert.deepEqual(owner(path.join(d, 'app')), [1000, 1001]);
    assert.deepEqual(owner(path.join(d, 'app-symlink')), [1002, 1003]);
    assert.deepEqual(owner(path.join(d, 'sub')), [1004, 1005]);
    assert.deepEqual(owner(d), [1006, 1007]);
    assert.equal(fs.statSync(path.join(d, 'app')).mode & 0o7777, 0o4755, 'setuid survives the chown');
    assert.equal(lgetxattr(path.join(d, 'app'), 'trusted.tsdock-test')?.toString(), 't');
  });

  it('follows symlinks inside the image to find the directory', async () => {
    const v = await store.createVolume('vialink');
    assert.equal((await seedVolume(v.Mountpoint, layers(), '/data-link')).seeded, true);
    assert.ok(fs.existsSync(path.join(v.Mountpoint, 'sub', 'deeper', 'file')));
  });

  it('does nothing when the volume already has data, or the path is not a directory in the image', async () => {
    const v = await store.createVolume('full');
    fs.writeFileSync(path.join(v.Mountpoint, 'mine'), 'keep');
    const before = fs.statSync(v.Mountpoint);
    assert.equal((await seedVolume(v.Mountpoint, layers(), '/srv/data')).seeded, false);
    assert.deepEqual(fs.readdirSync(v.Mountpoint), ['mine']);
    assert.equal(fs.statSync(v.Mountpoint).ino, before.ino);
    const e = await store.createVolume('empty');
    assert.equal((await seedVolume(e.Mountpoint, layers(), '/no/such/dir')).seeded, false);
    assert.equal((await seedVolume(e.Mountpoint, layers(), '/srv/data/app')).seeded, false);
    assert.equal((await seedVolume(e.Mountpoint, layers(), '/srv/data/gone')).seeded, false);
    assert.deepEqual(fs.readdirSync(e.Mountpoint), []);
  });

  it('an empty image directory still gives the volume its owner and mode', async () => {
    fs.mkdirSync(path.join(lower, 'empty'), { mode: 0o700 });
    fs.chmodSync(path.join(lower, 'empty'), 0o700);
    const v = await store.createVolume('emptydir');
    assert.equal((await seedVolume(v.Mountpoint, layers(), '/empty')).seeded, true);
    assert.deepEqual(fs.readdirSync(v.Mountpoint), []);
    assert.equal(fs.statSync(v.Mountpoint).mode & 0o7777, 0o700);
  });

  it('concurrent seeds of one volume: one copies, the other finds it done', async () => {
    const v = await store.createVolume('race');
    const results = await Promise.all([seedVolume(v.Mountpoint, layers(), '/srv/data'), seedVolume(v.Mountpoint, layers(), '/srv/data')]);
    assert.deepEqual(results.map((r) => r.seeded).sort(), [false, true]);
    assert.equal(list(v.Mountpoint).length, 11);
  });

  it('sweeps staging directories a dead process left behind', async () => {
    const v = await store.createVolume('swept');
    const stale = path.join(path.dirname(v.Mountpoint), '.seed-999999999-abc');
    fs.mkdirSync(path.join(stale, 'partial'), { recursive: true });
    await seedVolume(v.Mountpoint, layers(), '/srv/data');
    assert.equal(fs.existsSync(stale), false);
  });
});
