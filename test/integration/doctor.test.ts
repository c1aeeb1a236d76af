import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isRoot } from './shared-harness.js';
import { asUserArgv, collect, tempRoot, tsdock, uidOf } from './helpers.js';

const USER = 'tsdock-test';

interface Row {
  name: string;
  status: string;
  message: string;
  fix: string;
}

const uid = isRoot ? uidOf(USER) : undefined;
const probesLeft = () => fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith('doctor-overlay-'));

/** a root, a runtime dir and (optionally) a faked host root owned by the test user, removed at the end */
function userDirs(): { root: string; runtime: string; base: string; cleanup: () => void } {
  const t = tempRoot('doctor-user');
  fs.chmodSync(t.root, 0o755);
  const root = path.join(t.root, 'store');
  const runtime = path.join(t.root, 'xdg');
  fs.mkdirSync(runtime, { mode: 0o700 });
  fs.chownSync(runtime, uid!, 0);
  fs.mkdirSync(root, { mode: 0o700 });
  fs.chownSync(root, uid!, 0);
  return { root, runtime, base: t.root, cleanup: t.cleanup };
}

describe('doctor', () => {
  test('rootful on this host: every check passes or warns, exit 0; json parses; no probe left behind', { skip: !isRoot && 'needs root' }, async () => {
    const { root, cleanup } = tempRoot('doctor');
    try {
      const before = probesLeft();
      const r = await tsdock(['doctor'], { root });
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /^PASS {2}kernel /m);
      assert.match(r.stdout, /^PASS {2}overlayfs .*probed/m);
      assert.match(r.stdout, /^PASS {2}bridge networking/m);
      assert.doesNotMatch(r.stdout, /\x1b\[/);
      const j = await tsdock(['doctor', '--format', 'json'], { root });
      assert.equal(j.code, 0, j.stderr);
      const rows = JSON.parse(j.stdout) as Row[];
      assert.ok(rows.length >= 10);
      for (const row of rows) {
        assert.deepEqual(Object.keys(row).sort(), ['fix', 'message', 'name', 'status']);
        assert.ok(['PASS', 'WARN', 'SKIP'].includes(row.status), `${row.name}: ${row.status} ${row.message}`);
      }
      // as root without $SUDO_USER the subordinate ids concern nobody here
      assert.equal(rows.find((x) => x.name === '/etc/subuid')?.status, 'SKIP');
      assert.deepEqual(probesLeft(), before);
      assert.ok(!fs.existsSync(path.join(root, 'tmp')) || fs.readdirSync(path.join(root, 'tmp')).length === 0);
      const info = await tsdock(['info'], { root });
      assert.match(info.stdout, /^ Doctor: all checks pass$/m);
      if (uid !== undefined) {
        // through sudo: the rootless checks are for $SUDO_USER too
        const sudo = await tsdock(['doctor', '--format', 'json'], { root, env: { SUDO_USER: USER } });
        assert.equal(sudo.code, 0, sudo.stdout + sudo.stderr);
        const srows = JSON.parse(sudo.stdout) as Row[];
        assert.match(srows.find((x) => x.name === '/etc/subuid')!.message, new RegExp(`^${USER}: 65536 subordinate uids`));
        assert.equal(srows.find((x) => x.name === 'overlayfs (rootless)')?.status, 'PASS');
        assert.equal(srows.find((x) => x.name === 'bridge networking')?.status, 'PASS');
      }
      const bad = await tsdock(['doctor', '--format', 'yaml'], { root });
      assert.notEqual(bad.code, 0);
      assert.match(bad.stderr, /invalid --format "yaml"/);
    } finally {
      cleanup();
    }
  });

  test('rootless as the test user: exit 0, the only warning is the hybrid host\'s missing cgroup v2 delegation; no holder started', { skip: (!isRoot && 'needs root to switch users') || (uid === undefined && `no ${USER} user`) }, async () => {
    const d = userDirs();
    try {
      const r = await collect(asUserArgv(USER, d.runtime, d.root, ['doctor', '--format', 'json']));
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const rows = JSON.parse(r.stdout) as Row[];
      for (const name of ['/etc/subuid', '/etc/subgid', 'newuidmap', 'newgidmap', 'overlayfs (rootless)', '/dev/net/tun', 'rootless network helper', 'user namespaces']) {
        assert.equal(rows.find((x) => x.name === name)?.status, 'PASS', `${name}: ${JSON.stringify(rows.find((x) => x.name === name))}`);
      }
      // this host mounts cgroups hybrid (v1 controllers): rootless containers get no cgroup, which is a WARN, not a FAIL
      const problems = rows.filter((x) => x.status !== 'PASS');
      const hybrid = fs.readFileSync('/proc/self/mountinfo', 'utf8').includes(' /sys/fs/cgroup/unified ');
      assert.deepEqual(problems.map((x) => `${x.name} ${x.status}`), hybrid ? ['cgroups (rootless) WARN'] : problems.filter((x) => x.status === 'WARN').map((x) => `${x.name} ${x.status}`));
      const holderFile = path.join(d.runtime, 'tsdock', 'userns-holder.pid');
      assert.ok(!fs.existsSync(holderFile), 'doctor starts no user namespace holder');
      // with a holder alive, bin/tsdock run as a program (its launcher) runs doctor inside the user's namespace: root is unmapped there
      // (newuidmap's owner shows as the overflow uid) and the user is 0, yet the results are the same
      assert.equal((await collect(asUserArgv(USER, d.runtime, d.root, ['ps']))).code, 0);
      assert.ok(fs.existsSync(holderFile));
      const inside = await collect(asUserArgv(USER, d.runtime, d.root, ['doctor', '--format', 'json']).filter((a) => a !== process.execPath));
      assert.equal(inside.code, 0, inside.stdout + inside.stderr);
      const again = JSON.parse(inside.stdout) as Row[];
      assert.deepEqual(again.map((x) => `${x.name} ${x.status}`), rows.map((x) => `${x.name} ${x.status}`));
      assert.match(again.find((x) => x.name === 'newuidmap')!.message, /outside this user namespace/);
    } finally {
      try {
        process.kill(Number(fs.readFileSync(path.join(d.runtime, 'tsdock', 'userns-holder.pid'), 'utf8').split(' ')[0]), 'SIGKILL');
      } catch {
        // no holder
      }
      d.cleanup();
    }
  });

  test('faked failing host (TSDOCK_DOCTOR_ROOT): max_user_namespaces=0, no subuid range, no /dev/net/tun: exit 1 with the fixes', { skip: (!isRoot && 'needs root to switch users') || (uid === undefined && `no ${USER} user`) }, async () => {
    const d = userDirs();
    try {
      const fake = path.join(d.base, 'host');
      const put = (p: string, text: string) => {
        fs.mkdirSync(path.dirname(path.join(fake, p)), { recursive: true });
        fs.writeFileSync(path.join(fake, p), text);
      };
      put('/proc/sys/kernel/osrelease', `${os.release()}\n`);
      put('/proc/sys/user/max_user_namespaces', '0\n');
      put('/etc/passwd', fs.readFileSync('/etc/passwd', 'utf8'));
      put('/etc/subuid', 'someone:100000:65536\n');
      put('/etc/subgid', 'someone:100000:65536\n');
      execFileSync('chmod', ['-R', 'a+rX', fake]);
      const r = await collect(asUserArgv(USER, d.runtime, d.root, ['doctor'], { TSDOCK_DOCTOR_ROOT: fake }));
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stdout, /^FAIL {2}user namespaces +user\.max_user_namespaces is 0/m);
      assert.match(r.stdout, /fix: sudo sysctl -w user\.max_user_namespaces=28633/);
      assert.match(r.stdout, new RegExp(`^FAIL {2}/etc/subuid +no subordinate uid range for ${USER}`, 'm'));
      assert.match(r.stdout, new RegExp(`fix: sudo usermod --add-subuids 100000-165535 ${USER}`));
      assert.match(r.stdout, /^FAIL {2}\/dev\/net\/tun +\/dev\/net\/tun is missing/m);
      assert.match(r.stdout, /fix: sudo modprobe tun/);
      assert.match(r.stdout, /\d+ failed, \d+ warnings?$/m);
      const info = await collect(asUserArgv(USER, d.runtime, d.root, ['info'], { TSDOCK_DOCTOR_ROOT: fake }));
      assert.match(info.stdout, /^ Doctor: failing: .*user namespaces.*\/etc\/subuid.*\(run tsdock doctor\)$/m);
    } finally {
      d.cleanup();
    }
  });
});
