import { test } from 'node:test';
import assert from 'node:assert/strict';
import { networkMode, networkModeOptions, validateRequest, type CreateRequest } from '../../../src/container/request.js';
import { chooseRootless } from '../../../src/network/rootless-net.js';
import { parseSlirpOptions, slirpAddresses, slirpArgv } from '../../../src/network/slirp4netns.js';

test('slirp4netns options in podman\'s names; anything else is refused, never dropped', () => {
  assert.deepEqual(parseSlirpOptions([]), { allowHostLoopback: true, mtu: 65520, cidr: '10.0.2.0/24', enableIPv6: false });
  assert.deepEqual(parseSlirpOptions(['allow_host_loopback=false', 'mtu=1500', 'cidr=10.5.0.0/16', 'enable_ipv6=true']), { allowHostLoopback: false, mtu: 1500, cidr: '10.5.0.0/16', enableIPv6: true });
  assert.throws(() => parseSlirpOptions(['port_handler=slirp4netns']), /slirp4netns option "port_handler=slirp4netns" is not supported/);
  assert.throws(() => parseSlirpOptions(['mtu=100']), /mtu=100: 1280 to 65521 expected/);
  assert.throws(() => parseSlirpOptions(['allow_host_loopback=yes']), /true or false expected/);
  assert.throws(() => parseSlirpOptions(['cidr=10.5.0.0/28']), /\/25 or shorter/);
  assert.deepEqual(slirpAddresses('10.5.0.0/24'), { address: '10.5.0.100', gateway: '10.5.0.2', dns: '10.5.0.3', prefix: 24 });
});

test('slirp4netns argv: configured, ready on the executor\'s fd, the API socket, the netns as a path', () => {
  assert.deepEqual(slirpArgv(parseSlirpOptions(['allow_host_loopback=false']), '/run/u/net/slirp/abc.sock'), [
    'slirp4netns', '--configure', '--mtu', '65520', '--cidr', '10.0.2.0/24', '--disable-host-loopback',
    '--ready-fd', '{readyfd}', '--api-socket', '/run/u/net/slirp/abc.sock', '--netns-type', 'path', '{netns}', 'tap0',
  ]);
});

test('network modes with options; the rootless default falls back to the other helper, then none with both reasons', () => {
  const req = (NetworkMode: string) => ({ Image: 'x', HostConfig: { NetworkMode } }) as CreateRequest;
  assert.equal(networkMode(req('slirp4netns:mtu=1500')), 'slirp4netns');
  assert.equal(networkMode(req('pasta:--ipv4-only,-a,10.0.2.0')), 'pasta');
  assert.deepEqual(networkModeOptions(req('pasta:--ipv4-only,-a,10.0.2.0')), ['--ipv4-only', '-a', '10.0.2.0']);
  assert.deepEqual(networkModeOptions(req('container:abc')), []);
  validateRequest({ ...req('slirp4netns'), HostConfig: { NetworkMode: 'slirp4netns', PortBindings: { '80/tcp': [{ HostIp: '', HostPort: '8080' }] } } });
  const problems = (bad: string[]) => (h: string) => (bad.includes(h) ? `no ${h}` : undefined);
  assert.deepEqual(chooseRootless('pasta', problems([])), { helper: 'pasta' });
  assert.deepEqual(chooseRootless('slirp4netns', problems([])), { helper: 'slirp4netns' });
  assert.deepEqual(chooseRootless('pasta', problems(['pasta'])), { helper: 'slirp4netns' });
  assert.deepEqual(chooseRootless('pasta', problems(['pasta', 'slirp4netns'])), { helper: 'none', problem: 'no pasta (or slirp4netns)' });
});
