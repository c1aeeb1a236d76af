import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { closeQuiet, createFileAt, lstatAt, openDirAt, openFileAt, resolveInRoot } from '../../../src/storage/fdwalk.js';
import { walkDirFd, type TreeVisitor } from '../../../src/storage/fdtree.js';
import { mknod } from '../../../src/sys/index.js';

describe('storage/fdwalk: resolving and walking by directory fds', () => {
  let dir: string;
  let rootFd: number;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdock-fdwalk-'));
    fs.mkdirSync(path.join(dir, 'a/b'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'a/b/f'), 'inside');
    fs.symlinkSync('/', path.join(dir, 'a/up')); // a container's symlink to its own root
    fs.symlinkSync('../../../../etc/passwd', path.join(dir, 'a/esc'));
    fs.symlinkSync('b/f', path.join(dir, 'a/rel'));
    mknod(path.join(dir, 'a/fifo'), fs.constants.S_IFIFO | 0o644);
    rootFd = fs.openSync(dir, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY);
  });
  after(() => {
    closeQuiet(rootFd);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('directories on the way are resolved inside the root; the final symlink only when asked', () => {
    const through = resolveInRoot(rootFd, '/a/up/a/b/f', false);
    assert.equal(through.name, 'f');
    assert.ok(through.stat?.isFile());
    closeQuiet(through.dirFd);
    const link = resolveInRoot(rootFd, 'a/esc', false);
    assert.ok(link.stat?.isSymbolicLink(), 'not followed: the link itself');
    closeQuiet(link.dirFd);
    // followed, its target is clamped at the root: /etc does not exist in it (the host's is never reached)
    assert.throws(() => resolveInRoot(rootFd, 'a/esc', true), /openat2 \/etc: ENOENT/);
    fs.mkdirSync(path.join(dir, 'etc'));
    const followed = resolveInRoot(rootFd, 'a/esc', true);
    assert.equal(followed.path, '/etc/passwd');
    assert.equal(followed.stat, undefined, 'no passwd in the root');
    closeQuiet(followed.dirFd);
    const rel = resolveInRoot(rootFd, '/a/rel', true);
    assert.equal(rel.path, '/a/b/f');
    closeQuiet(rel.dirFd);
    const dots = resolveInRoot(rootFd, '../../a/./b/../b/f', false);
    assert.equal(dots.path, '/a/b/f');
    closeQuiet(dots.dirFd);
    assert.throws(() => resolveInRoot(rootFd, '/a/up/../../etc/passwd/x', false), /ENOENT/);
  });

  it('children never through a symlink; a FIFO is not opened for reading; files are created exclusively', () => {
    const a = openDirAt(rootFd, 'a');
    try {
      assert.throws(() => openDirAt(a, 'up'), /ELOOP|ENOTDIR/);
      assert.equal(openFileAt(a, 'esc'), undefined);
      assert.ok(lstatAt(a, 'fifo')?.isFIFO());
      assert.equal(openFileAt(a, 'fifo'), undefined, 'opened O_NONBLOCK, refused by its type');
      assert.throws(() => createFileAt(a, 'rel', 0o644), /EEXIST/);
      assert.throws(() => lstatAt(a, '../x'), /invalid file name/);
    } finally {
      closeQuiet(a);
    }
  });

  it('a walk reports links as links and stays in the tree', async () => {
    const seen: string[] = [];
    const v: TreeVisitor = {
      dir: (n) => void seen.push(`d ${n}`),
      file: (n, _st, fd) => void seen.push(`f ${n} ${fs.readFileSync(fd, 'utf8')}`),
      symlink: (n, _st, t) => void seen.push(`l ${n} ${t}`),
      special: (n) => void seen.push(`s ${n}`),
    };
    await walkDirFd(rootFd, '', v);
    assert.deepEqual(seen, ['d a', 'd a/b', 'f a/b/f inside', 'l a/esc ../../../../etc/passwd', 's a/fifo', 'l a/rel b/f', 'l a/up /', 'd etc']);
  });
});
