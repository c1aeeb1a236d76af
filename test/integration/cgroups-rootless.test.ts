import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { getHarness, isRoot } from './shared-harness.js';
import { asUserArgv, collect, endRootless, tempRoot, type RunResult } from './helpers.js';
import { detectCgroups } from '../../src/cgroups/detect.js';

const USER = 'tsdock-test';
const uidOf = (flag: '-u' | '-g') => Number(execFileSync('id', [flag, USER], { encoding: 'utf8' }).trim());
const hasUser = isRoot && (() => {
  try {
    uidOf('-u');
    return true;
  } catch {
    return false;
  }
})();
const host = detectCgroups();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Rootless limits. On cgroup v2 the test delegates a subtree to the user the way systemd's user@.service does
 * (chown of the directory and its cgroup.procs, cgroup.subtree_control, cgroup.threads; the user's processes in a
 * leaf below it) and expects limits to work there; on v1/hybrid it expects a clear refusal.
 */
describe(`rootless cgroups (${host.mode})`, { skip: !isRoot ? 'needs root to switch to the test user' : !hasUser ? `no ${USER} user` : false }, () => {
  let root: string;
  let runtime: string;
  let img: string;
  let deleg: string | undefined;
  const v2 = host.mode === 'v2';

  const asUser = (args: string[]): Promise<RunResult> => {
    const run = asUserArgv(USER, runtime, root, args);
    // on v2 the user's processes live in a leaf of the delegated subtree
    return collect(deleg ? ['sh', '-c', `echo $$ > ${deleg}/session/cgroup.procs && exec "$@"`, 'sh', ...run] : run);
  };

  before(async () => {
    img = (await getHarness()).fixtures.busyboxV2s2.ref;
    root = tempRoot('cg-rootless').root;
    runtime = tempRoot('cg-rootless-xdg').root;
    fs.chownSync(runtime, uidOf('-u'), 0);
    fs.chownSync(root, uidOf('-u'), uidOf('-g'));
    if (v2) {
      const mount = host.v2Mount!;
      // the root offers its controllers to its children, as systemd sets it up
      const offered = fs.readFileSync(path.join(mount, 'cgroup.controllers'), 'utf8').trim().split(/\s+/).filter((c) => ['cpu', 'memory', 'pids', 'cpuset', 'io'].includes(c));
      fs.writeFileSync(path.join(mount, 'cgroup.subtree_control'), offered.map((c) => `+${c}`).join(' '));
      deleg = path.join(mount, `tsdock-test-user-${process.pid}`);
      fs.mkdirSync(deleg);
      fs.mkdirSync(path.join(deleg, 'session'));
      for (const p of [deleg, ...['cgroup.procs', 'cgroup.subtree_control', 'cgroup.threads'].map((f) => path.join(deleg!, f)), path.join(deleg, 'session'), path.join(deleg, 'session', 'cgroup.procs')]) {
        fs.chownSync(p, uidOf('-u'), uidOf('-g'));
      }
    }
    const r = await asUser(['pull', '-q', img]);
    assert.equal(r.code, 0, r.stderr);
  });

  after(async () => {
    await endRootless(asUser, runtime);
    if (deleg) {
      // the session leaf held the pause process: wait for it to go, then remove the delegated tree
      for (let i = 0; i < 100 && fs.readFileSync(path.join(deleg, 'session', 'cgroup.procs'), 'utf8').trim(); i++) await sleep(20);
      const leftovers = fs.readdirSync(deleg, { withFileTypes: true }).filter((e) => e.isDirectory() && e.name !== 'session').map((e) => e.name);
      for (const d of [path.join(deleg, 'tsdock'), path.join(deleg, 'session'), deleg]) {
        try {
          fs.rmdirSync(d);
        } catch {
          // tsdock/ is gone already when its last container went
        }
      }
      assert.deepEqual(leftovers.filter((n) => n !== 'tsdock'), []);
      assert.equal(fs.existsSync(deleg), false, 'the delegated subtree is removed');
    }
  });

  test(v2 ? 'with a delegated v2 subtree: --memory OOM-kills (137, OOMKilled), --pids-limit holds, pause works' : 'on cgroup v1: run works, a limit flag is refused with the reason, pause and stats explain why not', async () => {
    if (!v2) {
      assert.equal((await asUser(['run', '--rm', img, 'true'])).code, 0);
      const r = await asUser(['run', '--rm', '--memory', '32m', img, 'true']);
      assert.equal(r.code, 125);
      assert.match(r.stderr, /^Error: --memory: resource limits are not available: rootless containers cannot use cgroup v1: it has no delegation to unprivileged users \(cgroup v2 has\)\n$/);
      const d = await asUser(['run', '-d', '--name', 'nocg', img, 'sleep', '300']);
      assert.equal(d.code, 0, d.stderr);
      const p = await asUser(['pause', 'nocg']);
      assert.equal(p.code, 1);
      assert.match(p.stderr, /cannot pause container .*: it has no cgroup/);
      const s = await asUser(['stats', '--no-stream', 'nocg']);
      assert.equal(s.code, 1, s.stderr);
      assert.match(s.stderr, /has no cgroup/);
      assert.equal((await asUser(['rm', '-f', 'nocg'])).code, 0);
      return;
    }
    const oom = await asUser(['run', '--name', 'oom', '--memory', '32m', img, 'dd', 'if=/dev/zero', 'of=/dev/null', 'bs=64M', 'count=1']);
    assert.equal(oom.code, 137, oom.stderr);
    assert.equal((await asUser(['inspect', '--format', '{{.State.OOMKilled}}', 'oom'])).stdout.trim(), 'true');
    const pids = await asUser(['run', '--rm', '--pids-limit', '5', img, 'sh', '-c', 'sh -c "for i in \\$(seq 1 20); do sleep 30 & done" 2>&1 | head -1; exit 0']);
    assert.match(pids.stdout + pids.stderr, /can't fork|Resource temporarily unavailable/);
    const d = await asUser(['run', '-d', '--name', 'frz', img, 'sleep', '300']);
    assert.equal(d.code, 0, d.stderr);
    assert.equal((await asUser(['pause', 'frz'])).code, 0);
    assert.equal((await asUser(['inspect', '--format', '{{.State.Status}}', 'frz'])).stdout.trim(), 'paused');
    assert.equal((await asUser(['unpause', 'frz'])).code, 0);
    const st = await asUser(['stats', '--no-stream', '--format', '{{.PIDs}}', 'frz']);
    assert.equal(st.stdout.trim(), '1', st.stderr);
    assert.equal((await asUser(['rm', '-f', 'frz', 'oom'])).code, 0);
  });
});
