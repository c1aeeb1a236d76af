// exec --preserve-fds N (podman's): the caller's fds 3..3+N-1 reach the command as the same numbers, and nothing
// else does: not Node's own descriptors, not the executor's. bin/tsdock runs as a program here (its sh line notes
// which fds its caller passed).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type StdioOptions } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { getHarness, isRoot } from './shared-harness.js';
import { bin, tempRoot, tsdock, type RunResult } from './helpers.js';

function runWith(args: string[], stdio: StdioOptions, onSpawn?: (streams: (Readable | null)[]) => void): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { env: { ...process.env, NO_COLOR: '1' }, stdio });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d) => (stdout += d));
    child.stderr?.on('data', (d) => (stderr += d));
    onSpawn?.(child.stdio as (Readable | null)[]);
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stdout, stderr });
    });
  });
}

describe('exec --preserve-fds', { skip: !isRoot && 'needs root' }, () => {
  let root: string;
  let dir: string;
  const t = (args: string[]) => tsdock(args, { root });

  before(async () => {
    const img = (await getHarness()).fixtures.busyboxV2s2.ref;
    root = tempRoot('exec-pfds').root;
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdock-pfds-'));
    assert.equal((await t(['pull', '-q', img])).code, 0);
    const r = await t(['run', '-d', '--name', 'pfds', img, 'sleep', '1000']);
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => {
    await t(['rm', '-f', 'pfds']);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('fds 3 and 4 of the caller are the command\'s 3 and 4, and the command holds no other', async () => {
    const file = path.join(dir, 'in');
    fs.writeFileSync(file, 'from-fd3\n');
    const fd3 = fs.openSync(file, 'r');
    let fromFd4 = '';
    try {
      // ls lists its own descriptors, exec'd by the shell: listing the shell's instead races with the shell's own
      // pipes and saved fds (a pipeline's ends, busybox's in-process applets); fd 5 is ls's handle on the directory
      const r = await runWith(['--root', root, 'exec', '--preserve-fds', '2', 'pfds', 'sh', '-c', 'cat <&3; echo to-fd4 >&4; exec ls /proc/self/fd'],
        ['ignore', 'pipe', 'pipe', fd3, 'pipe'], (s) => s[4]!.on('data', (d) => (fromFd4 += d)));
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'from-fd3\n0\n1\n2\n3\n4\n5\n');
      assert.equal(fromFd4, 'to-fd4\n');
    } finally {
      fs.closeSync(fd3);
    }
  });

  test('a socket end passed as fd 3 to a detached exec: the command writes, the caller reads', async () => {
    let got = '';
    const r = await runWith(['--root', root, 'exec', '-d', '--preserve-fds', '1', 'pfds', 'sh', '-c', 'echo detached >&3'], ['ignore', 'pipe', 'pipe', 'pipe'], (s) => s[3]!.on('data', (d) => (got += d)));
    assert.equal(r.code, 0, r.stderr);
    for (let i = 0; i < 50 && !got; i++) await new Promise((res) => setTimeout(res, 100));
    assert.equal(got, 'detached\n');
  });

  test('an fd the caller did not pass is refused with podman\'s error and exit 125; a bad N with the flag\'s', async () => {
    const r = await runWith(['--root', root, 'exec', '--preserve-fds', '1', 'pfds', 'true'], ['ignore', 'pipe', 'pipe']);
    assert.equal(r.code, 125);
    assert.equal(r.stderr, 'Error: file descriptor 3 is not available - the preserve-fds option requires that all file descriptors must be passed\n');
    const bad = await runWith(['--root', root, 'exec', '--preserve-fds', '-1', 'pfds', 'true'], ['ignore', 'pipe', 'pipe']);
    assert.equal(bad.code, 125);
    assert.match(bad.stderr, /^Error: invalid argument "-1" for "--preserve-fds" flag: strconv.ParseUint/);
  });
});
