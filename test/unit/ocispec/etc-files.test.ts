import { test } from 'node:test';
import assert from 'node:assert/strict';
import { etcFiles, hostnameFile, hostsFile, resolvConfFile } from '../../../src/ocispec/etc-files.js';

const STANDARD = '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n';

test('/etc/hosts with --network none: the standard block and 127.0.0.1 for the hostname and name', () => {
  assert.equal(hostsFile({ hostname: 'abc123', name: 'web', network: 'none' }), `${STANDARD}127.0.0.1\tabc123 web\n`);
  assert.equal(hostsFile({ hostname: 'web', name: 'web', network: 'none' }), `${STANDARD}127.0.0.1\tweb\n`);
  assert.equal(hostsFile({ hostname: 'h', name: 'n', network: 'none', containerIp: '10.88.0.2' }), `${STANDARD}10.88.0.2\th n\n`);
  assert.equal(hostsFile({ hostname: 'h', name: 'h', network: 'none', extraHosts: [{ host: 'db', ip: '10.0.0.9' }] }), `10.0.0.9\tdb\n${STANDARD}127.0.0.1\th\n`);
});

test('/etc/hosts with --network host: the host file, localhost added only when missing', () => {
  assert.equal(hostsFile({ hostname: 'h', name: 'n', network: 'host', hostHosts: '127.0.0.1 localhost\n10.1.1.1 h' }), '127.0.0.1 localhost\n10.1.1.1 h\n');
  assert.equal(hostsFile({ hostname: 'h', name: 'n', network: 'host', hostHosts: '# localhost\n10.1.1.1 h\n' }), '# localhost\n10.1.1.1 h\n127.0.0.1\tlocalhost\n::1\tlocalhost\n');
  assert.equal(hostsFile({ hostname: 'h', name: 'n', network: 'host' }), '127.0.0.1\tlocalhost\n::1\tlocalhost\n');
});

test('/etc/hostname and /etc/resolv.conf', () => {
  assert.equal(hostnameFile('abc'), 'abc\n');
  assert.equal(resolvConfFile({ network: 'host', hostResolvConf: 'nameserver 127.0.0.53' }), 'nameserver 127.0.0.53\n');
  assert.equal(resolvConfFile({ network: 'host' }), '# tsdock: the host has no /etc/resolv.conf\n');
  assert.equal(resolvConfFile({ network: 'none', hostResolvConf: 'nameserver 1.1.1.1\n' }), '# tsdock: --network none, no DNS\n');
  assert.deepEqual(Object.keys(etcFiles({ hostname: 'h', name: 'n', network: 'none' })), ['hosts', 'hostname', 'resolvConf']);
});
