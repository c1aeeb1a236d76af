import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { ImagePathLoopError, MAX_SYMLINKS, listImageDir, lookupImagePath, readImageFile } from '../../../src/storage/imagefs.js';
import { lsetxattr, mknod } from '../../../src/sys/index.js';

const isRoot = process.getuid?.() === 0;

/** What a hand-built layer holds, in overlay form (as storage/unpack.ts leaves it). */
type Spec =
  | { path: string; file: string; mode?: number }
  | { path: string; dir: true; mode?: number }
  | { path: string; symlink: string }
  | { path: string; whiteout: true }
  | { path: string; opaque: 'trusted' | 'user' };

function buildLayer(dir: string, specs: Spec[]): string {
  fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
  for (const s of specs) {
    const abs = path.join(dir, s.path);
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    if ('file' in s) fs.writeFileSync(abs, s.file, { mode: s.mode ?? 0o644 });
    else if ('dir' in s) fs.mkdirSync(abs, { recursive: true, mode: s.mode ?? 0o755 });
    else if ('symlink' in s) fs.symlinkSync(s.symlink, abs);
    else if ('whiteout' in s) mknod(abs, fs.constants.S_IFCHR, 0, 0);
    else {
      fs.mkdirSync(abs, { recursive: true });
      lsetxattr(abs, `${s.opaque}.overlay.opaque`, Buffer.from('y'));
    }
  }
  return dir;
}

describe('storage/imagefs: the merged image view', () => {
  let tmp: string;
  let n = 0;
  beforeEach(() => (tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdock-imagefs-'))));
  afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));
  /** layers given bottom first (as a Dockerfile builds them); returned top first (as the api takes them) */
  const layers = (...specs: Spec[][]) => specs.map((s) => buildLayer(path.join(tmp, `l${n++}`), s)).reverse();
  const names = (m: Map<string, unknown> | undefined) => (m ? [...m.keys()] : undefined);

  it('merges directories across layers; the topmost copy of a name wins', () => {
    const ls = layers([{ path: 'a/x', file: 'old x' }, { path: 'a/y', file: 'y' }], [{ path: 'a/x', file: 'new x' }, { path: 'a/z', file: 'z' }]);
    assert.deepEqual(names(listImageDir(ls, '/a')), ['x', 'y', 'z']);
    assert.equal(readImageFile(ls, '/a/x', 100)?.toString(), 'new x');
    assert.equal(readImageFile(ls, 'a/y', 100)?.toString(), 'y');
    const x = lookupImagePath(ls, '/a/x')!;
    assert.equal(x.layerDir, ls[0]);
    assert.equal(x.relPath, 'a/x');
    assert.ok(x.stat.isFile());
    const a = lookupImagePath(ls, '/a/')!;
    assert.deepEqual(a.mergedFrom, ls);
    assert.equal(lookupImagePath(ls, '/')?.relPath, '');
    assert.deepEqual(names(listImageDir(ls, '/')), ['a']);
    assert.equal(lookupImagePath(ls, '/nope'), undefined);
    assert.equal(lookupImagePath([], '/a'), undefined);
  });

  it('hides names whited out in an upper layer, and everything below a whited-out directory', () => {
    const ls = layers(
      [{ path: 'a/x', file: 'x' }, { path: 'a/keep', file: 'k' }, { path: 'd/sub/f', file: 'f' }],
      [{ path: 'a/x', whiteout: true }, { path: 'd', whiteout: true }],
    );
    assert.equal(lookupImagePath(ls, '/a/x'), undefined);
    assert.equal(readImageFile(ls, '/a/x', 100), undefined);
    assert.deepEqual(names(listImageDir(ls, '/a')), ['keep']);
    assert.equal(lookupImagePath(ls, '/d'), undefined);
    assert.equal(lookupImagePath(ls, '/d/sub/f'), undefined);
    assert.equal(listImageDir(ls, '/d'), undefined);
    assert.deepEqual(names(listImageDir(ls, '/')), ['a']);
  });

  it('a name re-created above its whiteout is visible again, without the lower contents', () => {
    const ls = layers([{ path: 'w/old', file: 'o' }], [{ path: 'w', whiteout: true }], [{ path: 'w/new', file: 'n' }]);
    assert.deepEqual(names(listImageDir(ls, '/w')), ['new']);
    assert.equal(lookupImagePath(ls, '/w/old'), undefined);
  });

  for (const ns of ['user', 'trusted'] as const) {
    it(`an opaque directory (${ns}.overlay.opaque) hides the lower contents of that directory only`, { skip: ns === 'trusted' && !isRoot && 'trusted.* needs CAP_SYS_ADMIN' }, () => {
      const ls = layers(
        [{ path: 'm/bottom', file: 'b' }, { path: 'o/old', file: 'o' }, { path: 'o/sub/deep', file: 'd' }, { path: 'other/x', file: 'x' }],
        [{ path: 'm', opaque: ns }, { path: 'm/middle', file: 'm' }],
        [{ path: 'o', opaque: ns }, { path: 'o/new', file: 'n' }, { path: 'm/top', file: 't' }, { path: 'other/y', file: 'y' }],
      );
      assert.deepEqual(names(listImageDir(ls, '/o')), ['new']);
      assert.equal(lookupImagePath(ls, '/o/old'), undefined);
      assert.equal(lookupImagePath(ls, '/o/sub/deep'), undefined);
      // opaque in the middle layer: the top layer still merges in, the bottom does not
      assert.deepEqual(names(listImageDir(ls, '/m')), ['middle', 'top']);
      assert.deepEqual(lookupImagePath(ls, '/m')!.mergedFrom, [ls[0], ls[1]]);
      assert.deepEqual(names(listImageDir(ls, '/other')), ['x', 'y']);
    });
  }

  it('an opaque layer root hides every lower layer', () => {
    const ls = layers([{ path: 'gone', file: 'g' }], [{ path: '.', opaque: 'user' }, { path: 'here', file: 'h' }]);
    assert.deepEqual(names(listImageDir(ls, '/')), ['here']);
    assert.equal(lookupImagePath(ls, '/gone'), undefined);
  });

  it('a file over a directory hides the directory; a directory over a file hides the file', () => {
    const ls = layers([{ path: 'p/q', file: 'q' }, { path: 'f', file: 'was a file' }], [{ path: 'p', file: 'now a file' }, { path: 'f/inside', file: 'i' }]);
    assert.ok(lookupImagePath(ls, '/p')!.stat.isFile());
    assert.equal(lookupImagePath(ls, '/p/q'), undefined, 'through a file: ENOTDIR');
    assert.equal(listImageDir(ls, '/p'), undefined);
    assert.deepEqual(lookupImagePath(ls, '/f')!.mergedFrom, [ls[0]]);
    assert.deepEqual(names(listImageDir(ls, '/f')), ['inside']);
  });

  it('follows a symlinked /etc -> /usr/etc inside the image, merging the target across layers', () => {
    const ls = layers(
      [{ path: 'etc', symlink: '/usr/etc' }, { path: 'usr/etc/group', file: 'root:x:0:\n' }, { path: 'rel', symlink: 'usr/etc' }],
      [{ path: 'usr/etc/passwd', file: 'root:x:0:0:root:/root:/bin/sh\n' }],
    );
    assert.equal(readImageFile(ls, '/etc/passwd', 4096)?.toString(), 'root:x:0:0:root:/root:/bin/sh\n');
    assert.equal(readImageFile(ls, '/etc/group', 4096)?.toString(), 'root:x:0:\n');
    assert.equal(readImageFile(ls, '/rel/group', 4096)?.toString(), 'root:x:0:\n');
    assert.deepEqual(names(listImageDir(ls, '/etc')), ['group', 'passwd']);
    const etc = lookupImagePath(ls, '/etc')!;
    assert.equal(etc.relPath, 'usr/etc');
    const link = lookupImagePath(ls, '/etc', { followFinal: false })!;
    assert.ok(link.stat.isSymbolicLink());
    assert.equal(link.relPath, 'etc');
  });

  it('resolves absolute targets at the image root, never at the host root', () => {
    const hostFile = path.join(tmp, 'host-secret');
    fs.writeFileSync(hostFile, 'host');
    const ls = layers([{ path: 'escape', symlink: hostFile }, { path: 'shadow', symlink: '/etc/hostname' }, { path: 'etc/hostname', file: 'image' }]);
    assert.equal(lookupImagePath(ls, '/escape'), undefined);
    assert.equal(readImageFile(ls, '/escape', 100), undefined);
    assert.equal(readImageFile(ls, '/shadow', 100)?.toString(), 'image');
  });

  it('clamps .. at the image root, in the path and in symlink targets', () => {
    const ls = layers([
      { path: 'etc/passwd', file: 'pw' },
      { path: 'a/b/up', symlink: '../../../../../../etc' },
      { path: 'a/b/abs', symlink: '/../../etc/./passwd' },
      { path: 'a/b/c/', dir: true },
    ]);
    assert.equal(readImageFile(ls, '/../../etc/passwd', 100)?.toString(), 'pw');
    assert.equal(readImageFile(ls, '/a/b/up/passwd', 100)?.toString(), 'pw');
    assert.equal(readImageFile(ls, '/a/b/abs', 100)?.toString(), 'pw');
    assert.equal(readImageFile(ls, '/a/b/c/../../../etc/passwd', 100)?.toString(), 'pw');
    // `..` after a symlink applies to the link's target, as in the kernel
    assert.equal(lookupImagePath(ls, '/a/b/up/..')!.relPath, '');
    assert.equal(lookupImagePath(ls, '/a/b/abs/x'), undefined, 'a file is not a directory');
  });

  it('stops symlink loops at 40 links with ELOOP', () => {
    const chain: Spec[] = [{ path: 'target', file: 't' }];
    for (let i = 0; i < MAX_SYMLINKS; i++) chain.push({ path: `l${i}`, symlink: i === 0 ? 'target' : `/l${i - 1}` });
    chain.push({ path: `l${MAX_SYMLINKS}`, symlink: `l${MAX_SYMLINKS - 1}` });
    chain.push({ path: 'self', symlink: 'self' }, { path: 'ping', symlink: '/pong' }, { path: 'pong', symlink: './ping' }, { path: 'dirloop', symlink: 'dirloop/x' });
    const ls = layers(chain);
    assert.equal(readImageFile(ls, `/l${MAX_SYMLINKS - 1}`, 10)?.toString(), 't', '40 links are fine');
    assert.throws(() => lookupImagePath(ls, `/l${MAX_SYMLINKS}`), ImagePathLoopError);
    for (const p of ['/self', '/ping', '/pong/anything', '/dirloop']) {
      assert.throws(
        () => lookupImagePath(ls, p),
        (err: unknown) => err instanceof ImagePathLoopError && err.code === 'ELOOP' && err.message.includes('too many levels of symbolic links'),
      );
    }
    assert.ok(lookupImagePath(ls, '/self', { followFinal: false })!.stat.isSymbolicLink());
  });

  it('readImageFile: only regular files, and refuses files over the limit', () => {
    const ls = layers([{ path: 'etc/big', file: 'x'.repeat(100) }, { path: 'etc/dir/', dir: true }, { path: 'dangling', symlink: '/nowhere' }]);
    assert.equal(readImageFile(ls, '/etc/big', 100)?.length, 100);
    assert.throws(() => readImageFile(ls, '/etc/big', 99), /larger than 99 bytes/);
    assert.equal(readImageFile(ls, '/etc/dir', 100), undefined);
    assert.equal(readImageFile(ls, '/dangling', 100), undefined);
    assert.equal(readImageFile(ls, '/etc/missing', 100), undefined);
  });

  it('a directory takes the attributes of its topmost copy', () => {
    const ls = layers([{ path: 'd/', dir: true, mode: 0o700 }], [{ path: 'd/', dir: true, mode: 0o751 }]);
    fs.chmodSync(path.join(ls[0]!, 'd'), 0o751);
    fs.chmodSync(path.join(ls[1]!, 'd'), 0o700);
    assert.equal(lookupImagePath(ls, '/d')!.stat.mode & 0o777, 0o751);
  });
});
