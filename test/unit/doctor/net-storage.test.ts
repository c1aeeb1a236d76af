import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkNetwork } from '../../../src/doctor/checks/network.js';
import { checkStorage, LOW_DISK } from '../../../src/doctor/checks/storage.js';
import { checkRegistries } from '../../../src/doctor/checks/registries.js';
import type { CheckResult } from '../../../src/doctor/types.js';
import { asArray, fakeHost, rootful, rootless } from './fake-host.js';

const TUN = { '/dev/net/tun': { mode: 0o20666 } };
const byName = (rs: CheckResult[], name: string) => rs.find((r) => r.name === name);

test('network rootless: /dev/net/tun missing, too strict or unopenable fails with the fix; a helper is needed', () => {
  const helpers = { pasta: '/usr/bin/pasta' };
  const ok = asArray(checkNetwork(fakeHost({ stats: TUN, commands: helpers }), rootless()));
  assert.deepEqual(ok.map((r) => r.status), ['PASS', 'PASS']);
  const missing = byName(asArray(checkNetwork(fakeHost({ commands: helpers }), rootless())), '/dev/net/tun')!;
  assert.equal(missing.status, 'FAIL');
  assert.match(missing.message, /missing.*no network/);
  assert.match(missing.fix, /^sudo modprobe tun/);
  const strict = byName(asArray(checkNetwork(fakeHost({ stats: { '/dev/net/tun': { mode: 0o20600 } }, commands: helpers }), rootless())), '/dev/net/tun')!;
  assert.equal(strict.fix, 'sudo chmod 0666 /dev/net/tun');
  const denied = byName(asArray(checkNetwork(fakeHost({ stats: TUN, commands: helpers, devices: { '/dev/net/tun': 'EPERM' } }), rootless())), '/dev/net/tun')!;
  assert.match(denied.message, /EPERM/);
  const noHelper = byName(asArray(checkNetwork(fakeHost({ stats: TUN }), rootless())), 'rootless network helper')!;
  assert.equal(noHelper.status, 'FAIL');
  assert.match(noHelper.fix, /apt-get install passt/);
});

test('network rootful: ip and nft for bridges, ip_forward', () => {
  const good = asArray(checkNetwork(fakeHost({ commands: { ip: '/sbin/ip', nft: '/sbin/nft' }, files: { '/proc/sys/net/ipv4/ip_forward': '1\n' } }), rootful()));
  assert.deepEqual(good.map((r) => r.status), ['PASS', 'PASS']);
  const bad = asArray(checkNetwork(fakeHost({ commands: { ip: '/sbin/ip' }, files: { '/proc/sys/net/ipv4/ip_forward': '0\n' } }), rootful()));
  assert.equal(bad[0]!.status, 'FAIL');
  assert.match(bad[0]!.fix, /apt-get install nftables/);
  assert.equal(bad[1]!.status, 'WARN');
  assert.match(bad[1]!.fix, /ip_forward=1/);
});

test('storage: low disk warns; the store and runtime dir are ours and 0700', () => {
  const s = rootless();
  const dirs = { [s.root]: { isDirectory: true, uid: 1000, mode: 0o40700 }, [s.runRoot]: { isDirectory: true, uid: 1000, mode: 0o40700 } };
  assert.deepEqual(asArray(checkStorage(fakeHost({ free: 50 * LOW_DISK, stats: dirs }), s)).map((r) => r.status), ['PASS', 'PASS', 'PASS']);
  const low = asArray(checkStorage(fakeHost({ free: LOW_DISK / 2, stats: dirs }), s))[0]!;
  assert.equal(low.status, 'WARN');
  assert.match(low.message, /0\.5 GiB free/);
  assert.match(low.fix, /prune/);
  const loose = asArray(checkStorage(fakeHost({ free: 50 * LOW_DISK, stats: { [s.root]: { isDirectory: true, uid: 1000, mode: 0o40755 }, [s.runRoot]: { isDirectory: true, uid: 1000, mode: 0o40755 } } }), s));
  assert.equal(loose[1]!.status, 'WARN');
  assert.equal(loose[2]!.status, 'FAIL');
  assert.equal(loose[2]!.fix, `chmod 0700 ${s.runRoot}`);
  const theirs = asArray(checkStorage(fakeHost({ free: 50 * LOW_DISK, stats: { [s.runRoot]: { isDirectory: true, uid: 0, mode: 0o40700 } } }), s))[2]!;
  assert.equal(theirs.status, 'FAIL');
  assert.match(theirs.message, /owned by uid 0, not 1000/);
  assert.equal(asArray(checkStorage(fakeHost({ free: 50 * LOW_DISK, stats: { [s.runRoot]: { isSymbolicLink: true } } }), s))[2]!.status, 'FAIL');
});

test('registries: registries.conf must parse; credential helpers must be on PATH', () => {
  const env = { HOME: '/home/alice', TSDOCK_REGISTRIES_CONF: '/etc/r.conf' };
  const s = rootless({ env });
  assert.equal(asArray(checkRegistries(fakeHost(), s))[0]!.status, 'PASS');
  assert.equal(asArray(checkRegistries(fakeHost({ files: { '/etc/r.conf': 'unqualified-search-registries = ["docker.io"]\n' } }), s))[0]!.status, 'PASS');
  const broken = asArray(checkRegistries(fakeHost({ files: { '/etc/r.conf': 'unqualified-search-registries = [\n' } }), s))[0]!;
  assert.equal(broken.status, 'FAIL');
  assert.match(broken.fix, /\/etc\/r\.conf/);
  const config = { '/home/alice/.docker/config.json': JSON.stringify({ credsStore: 'pass', credHelpers: { 'gcr.io': 'gcloud' } }) };
  const helpers = asArray(checkRegistries(fakeHost({ files: config, commands: { 'docker-credential-pass': '/usr/bin/docker-credential-pass' } }), s))[1]!;
  assert.equal(helpers.status, 'FAIL');
  assert.match(helpers.message, /docker-credential-gcloud, not found/);
  assert.doesNotMatch(helpers.message, /credential-pass/);
  const all = asArray(checkRegistries(fakeHost({ files: config, commands: { 'docker-credential-pass': '/a', 'docker-credential-gcloud': '/b' } }), s))[1]!;
  assert.equal(all.status, 'PASS');
  assert.equal(asArray(checkRegistries(fakeHost({ files: { '/home/alice/.docker/config.json': '{' } }), s))[1]!.status, 'FAIL');
});

test('network as root for $SUDO_USER: rootless problems only warn (root\'s containers are unaffected)', () => {
  const r = asArray(checkNetwork(fakeHost({ commands: { ip: '/sbin/ip', nft: '/sbin/nft' }, files: { '/proc/sys/net/ipv4/ip_forward': '1\n' } }), rootful({ rootless: true, user: { uid: 1000, gid: 1000, name: 'alice' } })));
  assert.deepEqual(r.map((x) => `${x.name} ${x.status}`), ['/dev/net/tun WARN', 'rootless network helper WARN', 'bridge networking PASS', 'ip forwarding PASS']);
});
