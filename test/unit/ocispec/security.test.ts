import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allCapabilities, capabilityMask, capabilityName, capabilityNumber, DEFAULT_CAPABILITIES } from '../../../src/ocispec/defaults.js';
import { effectiveCapAddDrop, normalizeCapability, parseSecurityOpts, resolveCapabilities } from '../../../src/ocispec/security.js';

test('capability table and masks', () => {
  assert.equal(capabilityNumber('CAP_SYS_ADMIN'), 21);
  assert.equal(capabilityName(40), 'CAP_CHECKPOINT_RESTORE');
  assert.equal(allCapabilities().length, 41);
  assert.equal(DEFAULT_CAPABILITIES.length, 14);
  assert.equal(capabilityMask(DEFAULT_CAPABILITIES), 0x00000000a80425fbn);
  assert.equal(capabilityMask(allCapabilities()), 0x000001ffffffffffn);
  assert.throws(() => capabilityMask(['CAP_NOPE']), { message: 'unknown capability: "CAP_NOPE"' });
});

test('normalization: case, prefix, ALL', () => {
  assert.equal(normalizeCapability(' net_admin '), 'CAP_NET_ADMIN');
  assert.equal(normalizeCapability('cap_net_admin'), 'CAP_NET_ADMIN');
  assert.equal(normalizeCapability('all'), 'ALL');
  assert.deepEqual(effectiveCapAddDrop(['chown', 'ALL', 'kill'], ['CAP_KILL', 'net_raw', 'net_raw']), { capAdd: ['ALL'], capDrop: ['CAP_KILL', 'CAP_NET_RAW'] });
  // add wins over drop
  assert.deepEqual(effectiveCapAddDrop(['kill'], ['KILL']), { capAdd: ['CAP_KILL'], capDrop: [] });
});

test("docker's TweakCapabilities", () => {
  assert.deepEqual(resolveCapabilities({}), [...DEFAULT_CAPABILITIES]);
  const tweaked = resolveCapabilities({ capAdd: ['sys_admin'], capDrop: ['NET_RAW'] });
  assert.deepEqual(tweaked, [...DEFAULT_CAPABILITIES.filter((c) => c !== 'CAP_NET_RAW'), 'CAP_SYS_ADMIN']);
  assert.equal(capabilityMask(tweaked), 0x00000000a80405fbn | (1n << 21n));
  assert.deepEqual(resolveCapabilities({ capDrop: ['ALL'], capAdd: ['NET_BIND_SERVICE', 'chown'] }), ['CAP_CHOWN', 'CAP_NET_BIND_SERVICE']);
  assert.deepEqual(resolveCapabilities({ capAdd: ['ALL'], capDrop: ['SYS_ADMIN'] }), allCapabilities().filter((c) => c !== 'CAP_SYS_ADMIN'));
  assert.deepEqual(resolveCapabilities({ capAdd: ['CHOWN'] }), [...DEFAULT_CAPABILITIES]);
  assert.deepEqual(resolveCapabilities({ privileged: true, capDrop: ['SYS_ADMIN'] }), allCapabilities());
  assert.deepEqual(resolveCapabilities({ capAdd: ['ALL'], lastCap: 37 }), allCapabilities(37));
  assert.throws(() => resolveCapabilities({ capAdd: ['FOO'] }), { message: 'invalid CapAdd: unknown capability: "CAP_FOO"' });
  assert.throws(() => resolveCapabilities({ capDrop: ['bar'] }), { message: 'invalid CapDrop: unknown capability: "CAP_BAR"' });
  assert.throws(() => resolveCapabilities({ capAdd: ['BPF'], lastCap: 37 }), { message: 'invalid CapAdd: unknown capability: "CAP_BPF"' });
});

test('--security-opt', () => {
  const base = { noNewPrivileges: false, seccomp: 'default', unconfinedSystemPaths: false, mask: [], unmask: [], warnings: [] };
  assert.deepEqual(parseSecurityOpts([]), base);
  assert.equal(parseSecurityOpts(['no-new-privileges']).noNewPrivileges, true);
  assert.equal(parseSecurityOpts(['no-new-privileges:true']).noNewPrivileges, true);
  assert.equal(parseSecurityOpts(['no-new-privileges=1']).noNewPrivileges, true);
  assert.equal(parseSecurityOpts(['no-new-privileges', 'no-new-privileges:false']).noNewPrivileges, false);
  assert.equal(parseSecurityOpts(['seccomp=unconfined']).seccomp, 'unconfined');
  assert.equal(parseSecurityOpts(['seccomp:builtin']).seccomp, 'default');
  assert.deepEqual(parseSecurityOpts(['seccomp={"defaultAction":"SCMP_ACT_ERRNO"}']).seccomp, { content: '{"defaultAction":"SCMP_ACT_ERRNO"}' });
  // the Engine API carries a profile's content: a path is the client's to read
  assert.throws(() => parseSecurityOpts(['seccomp=./profile.json']), /want the profile's JSON content, not a path \(\.\/profile\.json\)/);
  assert.equal(parseSecurityOpts(['seccomp={}'], true).seccomp, 'unconfined');
  assert.equal(parseSecurityOpts(['systempaths=unconfined']).unconfinedSystemPaths, true);
  assert.deepEqual(parseSecurityOpts(['unmask=ALL', 'mask=/proc/a:/proc/b']), { ...base, unmask: ['ALL'], mask: ['/proc/a', '/proc/b'] });
  assert.deepEqual(parseSecurityOpts(['label=disable', 'label:user:u', 'disable', 'apparmor=docker-default']).warnings, [
    '--security-opt label=disable: ignored, tsdock has no SELinux support',
    '--security-opt label:user:u: ignored, tsdock has no SELinux support',
    '--security-opt disable: ignored, tsdock has no SELinux support',
    '--security-opt apparmor=docker-default: ignored, tsdock has no AppArmor support',
  ]);
});

test('--security-opt errors', () => {
  assert.throws(() => parseSecurityOpts(['nonsense']), { message: 'invalid --security-opt 1: "nonsense"' });
  assert.throws(() => parseSecurityOpts(['foo=bar']), { message: 'invalid --security-opt 2: "foo=bar"' });
  assert.throws(() => parseSecurityOpts(['no-new-privileges=yes']), { message: 'invalid --security-opt 2: "no-new-privileges=yes"' });
  assert.throws(() => parseSecurityOpts(['systempaths=confined']), { message: 'invalid --security-opt 2: "systempaths=confined"' });
  assert.throws(() => parseSecurityOpts(['seccomp=']), /empty seccomp profile path/);
  assert.throws(() => parseSecurityOpts(['mask=rel']), /must be an absolute path/);
});
