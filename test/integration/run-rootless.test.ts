import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import { getHarness, isRoot, type HarnessData } from './shared-harness.js';
import { bin, tempRoot, type RunResult } from './helpers.js';

const USER = 'tsdock-test';
const hasUser = isRoot && (() => {
  try {
    execFileSync('id', ['-u', USER], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const skip = !isRoot ? 'needs root to switch to the unprivileged test user' : !hasUser ? `no ${USER} user (scripts/install-deps.sh creates it)` : false;

describe('tsdock run, rootless (an unprivileged user with subordinate id ranges)', { skip }, () => {
  let h: HarnessData;
  let root: string;
  const asUser = (args: string[]): Promise<RunResult> =>
    new Promise((resolve) => {
      const child = spawn('runuser', ['-u', USER, '--', 'env', `HOME=/home/${USER}`, 'NO_COLOR=1', process.execPath, bin, '--root', root, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    });

  before(async () => {
    h = await getHarness();
    root = tempRoot('run-rootless').root;
    fs.chownSync(root, Number(execFileSync('id', ['-u', USER], { encoding: 'utf8' })), Number(execFileSync('id', ['-g', USER], { encoding: 'utf8' })));
    for (const ref of [h.fixtures.busyboxV2s2.ref, h.fixtures.layered.ref]) {
      const r = await asUser(['pull', '-q', ref]);
      assert.equal(r.code, 0, r.stderr);
    }
  });

  test('echo, exit codes, root inside mapped to the user outside, default capabilities', async () => {
    const img = h.fixtures.busyboxV2s2.ref;
    let r = await asUser(['run', '--rm', img, 'echo', 'hi']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'hi\n');
    r = await asUser(['run', '--rm', img, 'sh', '-c', 'exit 3']);
    assert.equal(r.code, 3);
    r = await asUser(['run', '--rm', img, 'nope']);
    assert.equal(r.code, 127);
    r = await asUser(['run', '--rm', img, 'sh', '-c', 'id -u; echo $$; grep CapEff /proc/self/status; head -1 /proc/self/uid_map']);
    assert.equal(r.code, 0, r.stderr);
    const [uid, pid, caps, map] = r.stdout.trim().split('\n');
    assert.equal(uid, '0');
    assert.equal(pid, '1');
    assert.match(caps!, /00000000a80425fb/);
    assert.match(map!, new RegExp(`^\\s*0\\s+${execFileSync('id', ['-u', USER], { encoding: 'utf8' }).trim()}\\s+1$`));
    r = await asUser(['run', '--rm', img, 'mount', '-t', 'tmpfs', 'none', '/mnt']);
    assert.notEqual(r.code, 0, 'mount fails');
  });

  test('the layered image inside: setuid bit and uid 1000 ownership as in the image', async () => {
    const e = h.fixtures.layered.expect;
    const r = await asUser(['run', '--rm', h.fixtures.layered.ref, 'sh', '-c', `stat -c '%a %u:%g' ${e.setuid.path} ${e.owned.path}; test -e ${e.whiteoutRemoved} || echo gone`]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n'), [`${e.setuid.mode.toString(8)} 0:0`, `${e.modes[e.owned.path]!.toString(8)} ${e.owned.uid}:${e.owned.gid}`, 'gone']);
  });

  test('a named volume survives --rm', async () => {
    const img = h.fixtures.busyboxV2s2.ref;
    let r = await asUser(['run', '--rm', '-v', 'rlvol:/data', img, 'sh', '-c', 'echo kept > /data/f; chown 1000 /data/f']);
    assert.equal(r.code, 0, r.stderr);
    r = await asUser(['run', '--rm', '-v', 'rlvol:/data', img, 'stat', '-c', '%u %n', '/data/f']);
    assert.equal(r.stdout, '1000 /data/f\n');
  });
});
