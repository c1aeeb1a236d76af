import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ownV2Path, parseCgroupMounts } from '../../../src/cgroups/detect.js';
import { delegatedRoot, deviceControlMissing, normalizeParent, placeCgroup } from '../../../src/cgroups/location.js';
import { UsageError } from '../../../src/errors.js';
import { fakeTree } from './fake.js';

const HYBRID = `25 30 0:21 / /sys ro,nosuid shared:8 - sysfs sysfs rw
31 25 0:26 / /sys/fs/cgroup rw shared:9 - tmpfs tmpfs rw,mode=755
32 31 0:27 / /sys/fs/cgroup/unified rw shared:10 - cgroup2 cgroup2 rw,nsdelegate
35 31 0:30 / /sys/fs/cgroup/cpu,cpuacct rw shared:13 - cgroup cgroup rw,cpu,cpuacct
36 31 0:31 / /sys/fs/cgroup/memory rw shared:14 - cgroup cgroup rw,memory
37 31 0:32 / /sys/fs/cgroup/systemd rw shared:15 - cgroup cgroup rw,xattr,name=systemd
38 31 0:33 /docker /sys/fs/cgroup/pids rw shared:16 - cgroup cgroup rw,pids`;

test('mountinfo: hybrid (v1 controllers incl. co-mounted, named hierarchies skipped, non-root binds ignored)', () => {
  const h = parseCgroupMounts(HYBRID);
  assert.equal(h.mode, 'hybrid');
  assert.equal(h.v2Mount, '/sys/fs/cgroup/unified');
  assert.deepEqual([...h.v1.entries()], [['cpu', '/sys/fs/cgroup/cpu,cpuacct'], ['cpuacct', '/sys/fs/cgroup/cpu,cpuacct'], ['memory', '/sys/fs/cgroup/memory']]);
});

test('mountinfo: pure v2, pure v1, none', () => {
  assert.equal(parseCgroupMounts('30 25 0:26 / /sys/fs/cgroup rw,nosuid shared:4 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot').mode, 'v2');
  assert.equal(parseCgroupMounts(HYBRID.split('\n').filter((l) => !l.includes('cgroup2')).join('\n')).mode, 'v1');
  assert.equal(parseCgroupMounts('').mode, 'none');
  assert.equal(ownV2Path('12:memory:/x\n0::/user.slice/user-1000.slice/session-2.scope\n'), '/user.slice/user-1000.slice/session-2.scope');
});

test('placement: rootful v1/v2 under tsdock/, --cgroup-parent, rootless refused on v1 with the reason', () => {
  const v1 = parseCgroupMounts(HYBRID);
  assert.deepEqual(placeCgroup({ host: v1, id: 'abc', rootless: false, env: {} }), { location: { version: 1, path: '/tsdock/abc' } });
  assert.deepEqual(placeCgroup({ host: v1, id: 'abc', rootless: false, env: {}, parent: '/my/parent/' }), { location: { version: 1, path: '/my/parent/abc' } });
  assert.deepEqual(placeCgroup({ host: v1, id: 'abc', rootless: false, env: { TSDOCK_CGROUP_V2_MOUNT: '/sys/fs/cgroup/unified' } }), { location: { version: 2, mount: '/sys/fs/cgroup/unified', path: '/tsdock/abc' } });
  const r = placeCgroup({ host: v1, id: 'abc', rootless: true, env: {} });
  assert.equal(r.location, undefined);
  assert.match((r as { reason: string }).reason, /cgroup v1: it has no delegation/);
});

test('placement: rootless v2 goes below the topmost cgroup the user owns (systemd delegation), else refused', () => {
  const t = fakeTree({ 'user.slice/cgroup.procs': '', 'user.slice/u/cgroup.procs': '', 'user.slice/u/session/cgroup.procs': '' });
  try {
    const uid = fs.statSync(t.dir).uid;
    // the fake root has no cgroup.procs of the user's: the delegation starts below it
    assert.equal(delegatedRoot(t.dir, '/user.slice/u/session', uid), '/user.slice');
    assert.equal(delegatedRoot(t.dir, '/user.slice/u/session', uid + 1), undefined);
    const host = { mode: 'v2' as const, v1: new Map(), v2Mount: t.dir };
    const own = { procSelfCgroup: '0::/user.slice/u/session\n' };
    const ok = placeCgroup({ host, id: 'abc', rootless: true, env: {}, euid: uid, ...own });
    assert.deepEqual(ok, { location: { version: 2, mount: t.dir, path: '/user.slice/tsdock/abc' } });
    const no = placeCgroup({ host, id: 'abc', rootless: true, env: {}, euid: uid + 1, ...own });
    assert.match((no as { reason: string }).reason, /need a delegated cgroup v2 subtree/);
    assert.ok(fs.existsSync(path.join(t.dir, 'user.slice')));
  } finally {
    t.cleanup();
  }
});

test('--cgroup-parent: normalized below the root; ".." that leaves the root (or the delegated subtree) refused', () => {
  assert.equal(normalizeParent('/my//./parent/'), 'my/parent');
  assert.equal(normalizeParent('a/../b'), 'b');
  assert.equal(normalizeParent('/'), '');
  for (const bad of ['../../x', '/../x', 'a/../../x', '..', 'a/b/../../../etc']) {
    assert.throws(() => normalizeParent(bad), (e: unknown) => e instanceof UsageError && /invalid --cgroup-parent ".*": "\.\." leaves the cgroup root/.test((e as Error).message), bad);
  }
  const v1 = parseCgroupMounts(HYBRID);
  assert.deepEqual(placeCgroup({ host: v1, id: 'abc', rootless: false, env: {}, parent: 'a/../b' }), { location: { version: 1, path: '/b/abc' } });
  assert.throws(() => placeCgroup({ host: v1, id: 'abc', rootless: false, env: {}, parent: '../../x' }), UsageError);
  // on a fake v2 tree: rootful placement stays inside the mount, rootless inside the delegated subtree
  const t = fakeTree({ 'user.slice/cgroup.procs': '', 'user.slice/u/cgroup.procs': '' });
  try {
    const uid = fs.statSync(t.dir).uid;
    const host = { mode: 'v2' as const, v1: new Map(), v2Mount: t.dir };
    const own = { procSelfCgroup: '0::/user.slice/u\n', euid: uid };
    for (const rootless of [false, true]) {
      assert.throws(() => placeCgroup({ host, id: 'abc', rootless, env: {}, parent: '../../x', ...own }), UsageError);
      assert.throws(() => placeCgroup({ host, id: 'abc', rootless, env: {}, parent: '/..', ...own }), UsageError);
    }
    const ok = placeCgroup({ host, id: 'abc', rootless: true, env: {}, parent: 'p/../q', ...own });
    assert.deepEqual(ok, { location: { version: 2, mount: t.dir, path: '/user.slice/q/abc' } });
    const loc = ok.location!;
    assert.ok(path.join(loc.mount!, loc.path).startsWith(path.join(t.dir, 'user.slice') + '/'));
  } finally {
    t.cleanup();
  }
});

test('device control: v1 needs the devices hierarchy, v2 has the eBPF filter, no cgroup has none', () => {
  const hybrid = parseCgroupMounts(HYBRID);
  assert.equal(deviceControlMissing(hybrid, { version: 1, path: '/tsdock/x' }), 'cgroup v1 has no devices controller mounted');
  const withDevices = parseCgroupMounts(`${HYBRID}\n39 31 0:34 / /sys/fs/cgroup/devices rw shared:17 - cgroup cgroup rw,devices`);
  assert.equal(deviceControlMissing(withDevices, { version: 1, path: '/tsdock/x' }), undefined);
  assert.equal(deviceControlMissing(hybrid, { version: 2, mount: '/sys/fs/cgroup/unified', path: '/tsdock/x' }), undefined);
  assert.equal(deviceControlMissing(parseCgroupMounts(''), undefined, 'no cgroup filesystem is mounted'), 'no cgroup filesystem is mounted');
});
