// A read-only bind is read-only all the way down: `-v /host/dir:/x:ro` where /host/dir has a submount (a tmpfs
// here) leaves nothing writable below /x (mount_setattr AT_RECURSIVE after the remount, Linux >= 5.12).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { getHarness, isRoot } from './shared-harness.js';
import { tempRoot, tsdock } from './helpers.js';

describe('read-only binds are recursive', { skip: !isRoot && 'needs root' }, () => {
  let root: string;
  let img: string;
  let host: string;
  let sub: string;
  const t = (args: string[]) => tsdock(args, { root });

  before(async () => {
    img = (await getHarness()).fixtures.busyboxV2s2.ref;
    root = tempRoot('ro-bind').root;
    host = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdock-robind-'));
    sub = path.join(host, 'sub');
    fs.mkdirSync(sub);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tsdock-robind', sub]);
    assert.equal((await t(['pull', '-q', img])).code, 0);
  });
  after(() => {
    execFileSync('umount', [sub]);
    fs.rmSync(host, { recursive: true, force: true });
  });

  test('-v dir:/x:ro: writing into its tmpfs submount fails with EROFS', async () => {
    const r = await t(['run', '--rm', '-v', `${host}:/x:ro`, img, 'sh', '-c',
      'for f in /x/top /x/sub/f; do if echo hi > $f; then echo "$f written"; fi; done 2>&1; grep " /x/sub " /proc/self/mountinfo']);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /written/, r.stdout);
    assert.match(r.stdout, /can't create \/x\/sub\/f: Read-only file system/);
    assert.match(r.stdout, /can't create \/x\/top: Read-only file system/);
    assert.match(r.stdout, / \/x\/sub ro[, ]/, 'the submount itself is mounted read-only');
    assert.deepEqual(fs.readdirSync(sub), []);
  });

  test('-v dir:/x (rw) keeps the submount writable; --mount readonly is recursive too', async () => {
    const rw = await t(['run', '--rm', '-v', `${host}:/x`, img, 'sh', '-c', 'echo hi > /x/sub/f && cat /x/sub/f && rm /x/sub/f']);
    assert.equal(rw.code, 0, rw.stderr);
    assert.equal(rw.stdout, 'hi\n');
    const m = await t(['run', '--rm', '--mount', `type=bind,source=${host},target=/x,readonly`, img, 'sh', '-c', 'echo hi > /x/sub/f']);
    assert.notEqual(m.code, 0);
    assert.match(m.stderr, /Read-only file system/);
    assert.deepEqual(fs.readdirSync(sub), []);
  });
});
