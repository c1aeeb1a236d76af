import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { addon } from '../../../src/sys/addon.js';
import { libc } from '../../../src/sys/libc.js';
import {
  LOCK_EX,
  LOCK_NB,
  LOCK_SH,
  LOCK_UN,
  RENAME_EXCHANGE,
  RENAME_NOREPLACE,
  FS_TOPDIR_FL,
  SysError,
  addInodeFlags,
  flock,
  lgetxattr,
  lutimes,
  symlink,
  llistxattr,
  lsetxattr,
  makedev,
  mknod,
  renameat2,
  openat2,
  RESOLVE_IN_ROOT,
  RESOLVE_NO_SYMLINKS,
} from '../../../src/sys/index.js';

const isRoot = process.getuid?.() === 0;

describe('sys/fs', () => {
  let dir: string;
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdock-sys-'))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('flock: exclusive excludes, shared shares, LOCK_NB reports false instead of blocking', () => {
    const file = path.join(dir, 'lock');
    fs.writeFileSync(file, '');
    const a = fs.openSync(file, 'r');
    const b = fs.openSync(file, 'r');
    try {
      assert.equal(flock(a, LOCK_EX | LOCK_NB), true);
      assert.equal(flock(b, LOCK_SH | LOCK_NB), false);
      assert.equal(flock(b, LOCK_EX | LOCK_NB), false);
      assert.equal(flock(a, LOCK_UN), true);
      assert.equal(flock(a, LOCK_SH | LOCK_NB), true);
      assert.equal(flock(b, LOCK_SH | LOCK_NB), true);
      assert.equal(flock(a, LOCK_EX | LOCK_NB), false);
    } finally {
      fs.closeSync(a);
      fs.closeSync(b);
    }
  });

  it('flock: other failures throw SysError', () => {
    assert.throws(
      () => flock(987654, LOCK_EX | LOCK_NB),
      (err: unknown) => err instanceof SysError && err.code === 'EBADF' && err.syscall === 'flock' && /^flock: EBADF/.test(err.message),
    );
  });

  it('flock goes through tsdock-sys.node (npm run build makes it), and it excludes a lock koffi\'s flock holds', () => {
    const fast = addon();
    assert.ok(fast, 'native/build/tsdock-sys.node does not load: run npm run build');
    const file = path.join(dir, 'lock-both');
    fs.writeFileSync(file, '');
    const a = fs.openSync(file, 'r');
    const b = fs.openSync(file, 'r');
    try {
      assert.equal(libc().flock(a, LOCK_EX | LOCK_NB), 0);
      assert.equal(fast.flock(b, LOCK_EX | LOCK_NB), -os.constants.errno.EWOULDBLOCK);
      assert.equal(fast.flock(b, 'x' as unknown as number), -os.constants.errno.EINVAL, 'a non-number is EINVAL, not a crash');
      assert.equal(fast.flock(a, LOCK_UN), 0);
      assert.equal(fast.flock(b, LOCK_EX | LOCK_NB), 0);
    } finally {
      fs.closeSync(a);
      fs.closeSync(b);
    }
  });

  it('symlink and lutimes (through the addon) do what fs.symlinkSync and fs.lutimesSync do, to the microsecond', () => {
    const fast = addon();
    assert.ok(fast?.symlink && fast.lutimes, 'native/build/tsdock-sys.node lacks symlink/lutimes: run npm run build');
    const ours = path.join(dir, 'link-ours');
    const node = path.join(dir, 'link-node');
    symlink('busybox', ours);
    fs.symlinkSync('busybox', node);
    assert.equal(fs.readlinkSync(ours), 'busybox');
    for (const [a, m] of [[1700000000, 1700000000], [1700000000.5, 1600000000.123456789], [0.000001, 4102444800.999999]] as const) {
      lutimes(ours, a, m);
      fs.lutimesSync(node, a, m);
      const [x, y] = [fs.lstatSync(ours, { bigint: true }), fs.lstatSync(node, { bigint: true })];
      assert.deepEqual([x.atimeNs, x.mtimeNs], [y.atimeNs, y.mtimeNs], `times ${a} ${m}`);
    }
    assert.equal(fs.statSync(ours, { throwIfNoEntry: false }), undefined, 'the dangling target was not touched');
    assert.throws(() => symlink('x', ours), (err: unknown) => err instanceof SysError && err.code === 'EEXIST' && err.syscall === 'symlink' && err.path === ours);
    assert.throws(() => lutimes(path.join(dir, 'none'), 1, 1), (err: unknown) => err instanceof SysError && err.code === 'ENOENT' && err.syscall === 'utimensat');
    // a NUL inside a path would cut it short in C: refused, as Node refuses it
    assert.equal(fast.symlink('x', `${ours}\0tail`), -os.constants.errno.EINVAL);
    assert.equal(fast.lutimes(`${ours}\0tail`, 1, 1), -os.constants.errno.EINVAL);
    assert.equal(fast.symlink('x', 'y'.repeat(5000)), -os.constants.errno.ENAMETOOLONG);
    assert.equal(fast.lutimes(ours, NaN, 1), -os.constants.errno.EINVAL);
  });

  it('addInodeFlags sets chattr +T on a directory (ext4 here), keeps it when set, and fails on tmpfs', (t) => {
    const top = path.join(dir, 'top');
    fs.mkdirSync(top);
    const fd = fs.openSync(top, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
    try {
      addInodeFlags(fd, FS_TOPDIR_FL);
    } catch (err) {
      fs.closeSync(fd);
      if (err instanceof SysError && (err.code === 'ENOTTY' || err.code === 'EOPNOTSUPP')) return t.skip(`${os.tmpdir()} has no inode flags (${err.code})`);
      throw err;
    }
    addInodeFlags(fd, FS_TOPDIR_FL);
    fs.closeSync(fd);
    const attrs = spawnSync('lsattr', ['-d', top], { encoding: 'utf8' });
    if (attrs.status === 0) assert.match(attrs.stdout.split(/\s+/)[0]!, /T/);
    if (fs.existsSync('/dev/shm')) {
      const shm = fs.mkdtempSync('/dev/shm/tsdock-flags-');
      const sfd = fs.openSync(shm, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
      try {
        assert.throws(() => addInodeFlags(sfd, FS_TOPDIR_FL), (err: unknown) => err instanceof SysError && /^ioctl\(FS_IOC_/.test(err.syscall));
      } finally {
        fs.closeSync(sfd);
        fs.rmSync(shm, { recursive: true });
      }
    }
  });

  it('mknod: fifo always, whiteout (0/0 char device) always, other devices when privileged', () => {
    mknod(path.join(dir, 'fifo'), fs.constants.S_IFIFO | 0o644);
    assert.ok(fs.lstatSync(path.join(dir, 'fifo')).isFIFO());
    mknod(path.join(dir, 'wh'), fs.constants.S_IFCHR, 0, 0);
    const wh = fs.lstatSync(path.join(dir, 'wh'));
    assert.ok(wh.isCharacterDevice());
    assert.equal(wh.rdev, 0);
    if (isRoot) {
      mknod(path.join(dir, 'dev'), fs.constants.S_IFCHR | 0o600, 259, 70000);
      assert.equal(BigInt(fs.lstatSync(path.join(dir, 'dev')).rdev), makedev(259, 70000));
    }
    assert.throws(() => mknod(path.join(dir, 'fifo'), fs.constants.S_IFIFO | 0o644), (err: unknown) => err instanceof SysError && err.code === 'EEXIST' && err.path === path.join(dir, 'fifo'));
  });

  it('makedev matches glibc (values from a C program using <sys/sysmacros.h>)', () => {
    assert.equal(makedev(1, 3), 259n);
    assert.equal(makedev(8, 1), 2049n);
    assert.equal(makedev(0, 0), 0n);
    assert.equal(makedev(4095, 1_048_575), 0xffffffffn);
    assert.equal(makedev(0x1000, 0x100), 0x100000100000n);
    assert.equal(makedev(259, 70000), 0x11110370n);
  });

  it('xattrs: set, get (binary), list; missing is undefined, missing file throws', () => {
    const file = path.join(dir, 'x');
    fs.writeFileSync(file, '');
    const value = Buffer.from([0, 1, 0x80, 0xff]);
    lsetxattr(file, 'user.bin', value);
    lsetxattr(file, 'user.empty', Buffer.alloc(0));
    assert.deepEqual(lgetxattr(file, 'user.bin'), value);
    assert.deepEqual(lgetxattr(file, 'user.empty'), Buffer.alloc(0));
    assert.equal(lgetxattr(file, 'user.none'), undefined);
    assert.deepEqual(llistxattr(file).filter((n) => n.startsWith('user.')).sort(), ['user.bin', 'user.empty']);
    assert.throws(
      () => lgetxattr(path.join(dir, 'nope'), 'user.x'),
      (err: unknown) => err instanceof SysError && err.code === 'ENOENT' && err.syscall === 'lgetxattr' && err.path === path.join(dir, 'nope'),
    );
    // does not follow symlinks: user.* xattrs are not allowed on the link itself
    fs.symlinkSync(file, path.join(dir, 'link'));
    assert.equal(lgetxattr(path.join(dir, 'link'), 'user.bin'), undefined);
    assert.throws(() => lsetxattr(path.join(dir, 'link'), 'user.bin', value), (err: unknown) => err instanceof SysError && err.code === 'EPERM');
  });

  it('renameat2: NOREPLACE refuses to replace, EXCHANGE swaps', () => {
    const a = path.join(dir, 'ra');
    const b = path.join(dir, 'rb');
    fs.writeFileSync(a, 'a');
    fs.writeFileSync(b, 'b');
    assert.throws(() => renameat2(a, b, RENAME_NOREPLACE), (err: unknown) => err instanceof SysError && err.code === 'EEXIST');
    renameat2(a, b, RENAME_EXCHANGE);
    assert.equal(fs.readFileSync(a, 'utf8'), 'b');
    assert.equal(fs.readFileSync(b, 'utf8'), 'a');
    renameat2(a, path.join(dir, 'rc'), RENAME_NOREPLACE);
    assert.equal(fs.readFileSync(path.join(dir, 'rc'), 'utf8'), 'b');
  });

  it('openat2: RESOLVE_IN_ROOT keeps symlinks and .. inside the directory fd, RESOLVE_NO_SYMLINKS refuses them', () => {
    const root = path.join(dir, 'openat2-root');
    fs.mkdirSync(path.join(root, 'etc'), { recursive: true });
    fs.writeFileSync(path.join(root, 'etc', 'passwd'), 'inside\n');
    fs.symlinkSync('/etc/passwd', path.join(root, 'abs'));
    fs.symlinkSync('../../../../etc/passwd', path.join(root, 'rel'));
    const rootFd = fs.openSync(root, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
    try {
      for (const name of ['abs', 'rel', '../../etc/passwd']) {
        const fd = openat2(rootFd, name, { flags: fs.constants.O_RDONLY, resolve: RESOLVE_IN_ROOT });
        try {
          assert.equal(fs.readFileSync(fd, 'utf8'), 'inside\n', name);
        } finally {
          fs.closeSync(fd);
        }
      }
      assert.throws(() => openat2(rootFd, 'abs', { flags: fs.constants.O_RDONLY, resolve: RESOLVE_NO_SYMLINKS }), (e: unknown) => e instanceof SysError && e.code === 'ELOOP' && e.syscall === 'openat2');
    } finally {
      fs.closeSync(rootFd);
    }
  });
});
