import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runChecks } from '../../../src/doctor/index.js';
import { doctorSubject, passwdEntry } from '../../../src/doctor/subject.js';
import { hostUidOf } from '../../../src/doctor/host.js';
import { fakeHost } from './fake-host.js';

const PASSWD = 'root:x:0:0::/root:/bin/sh\nalice:x:1000:1001::/home/alice:/bin/sh\n';
const base = { root: '/r', runRoot: '/rr' };

test('subject: a user is checked rootless; root checks $SUDO_USER, else nobody', () => {
  const host = fakeHost({ files: { '/etc/passwd': PASSWD } });
  assert.deepEqual(doctorSubject(host, { ...base, rootful: false, uid: 1000, gid: 1001, env: {} }).user, { uid: 1000, gid: 1001, name: 'alice' });
  const sudo = doctorSubject(host, { ...base, rootful: true, uid: 0, gid: 0, env: { SUDO_USER: 'alice' } });
  assert.equal(sudo.rootless, true);
  assert.deepEqual(sudo.user, { name: 'alice', uid: 1000, gid: 1001 });
  assert.equal(doctorSubject(host, { ...base, rootful: true, uid: 0, gid: 0, env: {} }).rootless, false);
  assert.equal(passwdEntry(PASSWD, (n) => n === 'bob'), undefined);
});

test('host ids: inside tsdock user namespace the user is 0 and root is not mapped', () => {
  const map: Array<[number, number, number]> = [[0, 1000, 1], [1, 100000, 65536]];
  assert.equal(hostUidOf(0, map), 1000);
  assert.equal(hostUidOf(5, map), 100004);
  assert.equal(hostUidOf(65534 + 70000, map), -1);
  assert.equal(hostUidOf(7, undefined), 7);
  // the kernel shows an unmapped owner (root) as the overflow uid, which the subordinate range also covers
  assert.equal(hostUidOf(65534, map, 65534), -1);
  assert.equal(hostUidOf(65534, undefined, 65534), 65534);
});

test('runChecks: every check reports, a throwing one becomes a WARN', () => {
  const host = fakeHost();
  host.read = (p) => {
    if (p === '/proc/self/status') throw new Error('boom');
    return undefined;
  };
  const results = runChecks(host, { rootless: true, rootful: false, user: { uid: 1000, gid: 1000 }, ...base, env: {} });
  const seccomp = results.find((r) => r.name === 'seccomp')!;
  assert.equal(seccomp.status, 'WARN');
  assert.match(seccomp.message, /boom/);
  for (const name of ['kernel', 'user namespaces', '/etc/subuid', 'newuidmap', 'cgroups', '/dev/net/tun', 'disk space', 'registries.conf']) {
    assert.ok(results.some((r) => r.name === name), name);
  }
});
