import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkCgroups } from '../../../src/doctor/checks/cgroups.js';
import { checkOverlay } from '../../../src/doctor/checks/overlay.js';
import { checkSeccomp } from '../../../src/doctor/checks/seccomp.js';
import { asArray, fakeHost, rootful, rootless } from './fake-host.js';

const FILESYSTEMS = 'nodev\tsysfs\nnodev\toverlay\n';
const OSREL = { '/proc/sys/kernel/osrelease': '6.1.0\n' };

test('overlay: probed rootful and rootless; a failing probe or no overlayfs means vfs; fuse-overlayfs is named unsupported', () => {
  const ok = fakeHost({ files: { '/proc/filesystems': FILESYSTEMS, ...OSREL } });
  assert.deepEqual(asArray(checkOverlay(ok, rootful())).map((r) => r.status), ['PASS']);
  assert.deepEqual(ok.probes, [false]);
  const userns = fakeHost({ files: { '/proc/filesystems': FILESYSTEMS, ...OSREL }, probe: { rootless: 'wrong fs type' } });
  const [r] = asArray(checkOverlay(userns, rootless()));
  assert.equal(r!.status, 'WARN');
  assert.match(r!.message, /userxattr.*wrong fs type.*vfs.*fuse-overlayfs is not supported/);
  assert.deepEqual(userns.probes, [true]);
  const none = asArray(checkOverlay(fakeHost({ files: { '/proc/filesystems': 'nodev\tsysfs\n' } }), rootful()))[0]!;
  assert.equal(none.status, 'WARN');
  assert.match(none.fix, /modprobe overlay/);
  const old = fakeHost({ files: { '/proc/filesystems': FILESYSTEMS, '/proc/sys/kernel/osrelease': '5.10.0\n' } });
  assert.match(asArray(checkOverlay(old, rootless()))[0]!.message, /5\.11/);
  assert.deepEqual(old.probes, []);
});

const V2 = '30 1 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw\n';
const HYBRID = '30 1 0:26 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n31 1 0:27 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n32 1 0:28 / /sys/fs/cgroup/devices rw - cgroup cgroup rw,devices\n';
const SVC = '/sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service';

test('cgroups v2: rootful lists the controllers; rootless needs systemd delegation of them', () => {
  const files = { '/proc/self/mountinfo': V2, '/sys/fs/cgroup/cgroup.controllers': 'cpuset cpu io memory pids\n', [`${SVC}/cgroup.controllers`]: 'cpuset cpu io memory pids\n' };
  assert.equal(asArray(checkCgroups(fakeHost({ files }), rootful()))[0]!.status, 'PASS');
  assert.equal(asArray(checkCgroups(fakeHost({ files, stats: { [SVC]: { uid: 1000, isDirectory: true } } }), rootless()))[0]!.status, 'PASS');
  const partial = asArray(checkCgroups(fakeHost({ files: { ...files, [`${SVC}/cgroup.controllers`]: 'memory pids\n' }, stats: { [SVC]: { uid: 1000 } } }), rootless()))[0]!;
  assert.equal(partial.status, 'WARN');
  assert.match(partial.message, /limits of cpu, io, cpuset are refused/);
  assert.match(partial.fix, /user@\.service\.d\/delegate\.conf/);
  assert.match(partial.fix, /Delegate=cpu cpuset io memory pids/);
  const notOwned = asArray(checkCgroups(fakeHost({ files, stats: { [SVC]: { uid: 0 } } }), rootless()))[0]!;
  assert.equal(notOwned.status, 'WARN');
  assert.match(notOwned.message, /nothing is delegated/);
  const noSession = asArray(checkCgroups(fakeHost({ files }), rootless()))[0]!;
  assert.equal(noSession.status, 'WARN');
  assert.match(noSession.fix, /loginctl enable-linger alice/);
});

test('cgroups v1/hybrid: rootful needs the devices hierarchy; rootless gets no cgroup (a WARN naming the limits)', () => {
  assert.equal(asArray(checkCgroups(fakeHost({ files: { '/proc/self/mountinfo': HYBRID } }), rootful()))[0]!.status, 'PASS');
  const noDevices = asArray(checkCgroups(fakeHost({ files: { '/proc/self/mountinfo': HYBRID.split('\n').slice(0, 2).join('\n') } }), rootful()))[0]!;
  assert.equal(noDevices.status, 'FAIL');
  assert.match(noDevices.message, /device control/);
  const rl = asArray(checkCgroups(fakeHost({ files: { '/proc/self/mountinfo': HYBRID } }), rootless()))[0]!;
  assert.equal(rl.status, 'WARN');
  assert.match(rl.message, /--memory/);
  assert.match(rl.fix, /systemd\.unified_cgroup_hierarchy=1/);
  assert.equal(asArray(checkCgroups(fakeHost(), rootful()))[0]!.status, 'FAIL');
});

test('seccomp: the status field and, when readable, CONFIG_SECCOMP_FILTER', () => {
  const status = { '/proc/self/status': 'Name:\tx\nSeccomp:\t0\n' };
  assert.equal(asArray(checkSeccomp(fakeHost({ files: status }), rootful()))[0]!.status, 'PASS');
  assert.equal(asArray(checkSeccomp(fakeHost({ files: status, config: 'CONFIG_SECCOMP=y\nCONFIG_SECCOMP_FILTER=y\n' }), rootful()))[0]!.status, 'PASS');
  assert.equal(asArray(checkSeccomp(fakeHost({ files: status, config: 'CONFIG_SECCOMP=y\n# CONFIG_SECCOMP_FILTER is not set\n' }), rootful()))[0]!.status, 'FAIL');
  const none = asArray(checkSeccomp(fakeHost({ files: { '/proc/self/status': 'Name:\tx\n' } }), rootful()))[0]!;
  assert.equal(none.status, 'FAIL');
  assert.match(none.fix, /CONFIG_SECCOMP_FILTER=y/);
});
