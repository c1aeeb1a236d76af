import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkKernel } from '../../../src/doctor/checks/kernel.js';
import { checkUserNamespaces } from '../../../src/doctor/checks/userns.js';
import { asArray, fakeHost, rootful, rootless } from './fake-host.js';

const kernel = (release: string) => asArray(checkKernel(fakeHost({ files: { '/proc/sys/kernel/osrelease': `${release}\n` } }), rootless()))[0]!;

test('kernel: 5.6 is needed (openat2), 5.14 recommended; what degrades below it is named', () => {
  assert.equal(kernel('6.1.0-18-amd64').status, 'PASS');
  assert.equal(kernel('5.14.0').status, 'PASS');
  assert.match(kernel('5.12.0').message, /without cgroup\.kill/);
  const old = kernel('5.10.0-28-amd64');
  assert.equal(old.status, 'WARN');
  assert.match(old.message, /rootless overlayfs/);
  assert.match(old.message, /recursive read-only/);
  assert.doesNotMatch(old.message, /whiteouts|clone3/);
  const ancient = kernel('4.19.0');
  assert.equal(ancient.status, 'FAIL');
  assert.match(ancient.message, /openat2/);
  assert.match(ancient.fix, /upgrade the kernel/);
  assert.equal(asArray(checkKernel(fakeHost(), rootless()))[0]!.status, 'WARN');
});

const sysctls = (v: Record<string, string>) => fakeHost({ files: Object.fromEntries(Object.entries(v).map(([k, x]) => [`/proc/sys/${k.replace(/\./g, '/')}`, `${x}\n`])) });

test('user namespaces: allowed passes', () => {
  const r = asArray(checkUserNamespaces(sysctls({ 'user.max_user_namespaces': '63000' }), rootless()));
  assert.deepEqual(r.map((x) => x.status), ['PASS']);
});

test('user namespaces: max_user_namespaces=0 fails rootless with the sysctl that fixes it', () => {
  const [r] = asArray(checkUserNamespaces(sysctls({ 'user.max_user_namespaces': '0' }), rootless()));
  assert.equal(r!.status, 'FAIL');
  assert.match(r!.message, /max_user_namespaces is 0/);
  assert.match(r!.fix, /^sudo sysctl -w user\.max_user_namespaces=28633/);
});

test("user namespaces: Debian's unprivileged_userns_clone=0 fails", () => {
  const r = asArray(checkUserNamespaces(sysctls({ 'user.max_user_namespaces': '63000', 'kernel.unprivileged_userns_clone': '0' }), rootless()));
  assert.equal(r.length, 1);
  assert.equal(r[0]!.status, 'FAIL');
  assert.match(r[0]!.fix, /kernel\.unprivileged_userns_clone=1/);
  assert.equal(asArray(checkUserNamespaces(sysctls({ 'user.max_user_namespaces': '9', 'kernel.unprivileged_userns_clone': '1' }), rootless()))[0]!.status, 'PASS');
});

test("user namespaces: Ubuntu's AppArmor restriction fails rootless, only warns root (root's containers unaffected)", () => {
  const host = sysctls({ 'user.max_user_namespaces': '63000', 'kernel.apparmor_restrict_unprivileged_userns': '1' });
  const [r] = asArray(checkUserNamespaces(host, rootless()));
  assert.equal(r!.status, 'FAIL');
  assert.match(r!.message, /AppArmor/);
  assert.match(r!.fix, /apparmor_restrict_unprivileged_userns=0/);
  const [asRoot] = asArray(checkUserNamespaces(host, rootful()));
  assert.equal(asRoot!.status, 'WARN');
  assert.match(asRoot!.message, /root is not affected/);
});

test('user namespaces: a kernel without them', () => {
  const [r] = asArray(checkUserNamespaces(fakeHost(), rootless()));
  assert.equal(r!.status, 'FAIL');
  assert.match(r!.fix, /CONFIG_USER_NS/);
});
