import { test } from 'node:test';
import assert from 'node:assert/strict';
import { withNetwork, withoutNetwork } from '../../../src/container/network-config.js';
import { requestOf } from '../../../src/container/record.js';
import { requestedNetworks, type CreateRequest } from '../../../src/container/request.js';
import { dnsViews } from '../../../src/network/dns-records.js';
import { allocateEndpoint, nextIfname } from '../../../src/network/endpoint.js';
import { hotplugBatches } from '../../../src/network/hotplug.js';
import type { Endpoint, NetworkLease, NetworkRecord } from '../../../src/network/types.js';
import { record } from '../container/fixtures.js';

const net = (Name: string, Id: string, Subnet: string, Gateway: string): NetworkRecord => ({
  Name,
  Id,
  Created: '',
  Scope: 'local',
  Driver: 'bridge',
  EnableIPv6: false,
  IPAM: { Driver: 'default', Options: {}, Config: [{ Subnet, Gateway }] },
  Internal: false,
  Attachable: false,
  Ingress: false,
  ConfigFrom: { Network: '' },
  ConfigOnly: false,
  Options: { 'com.docker.network.bridge.name': `tsd-${Id.slice(0, 8)}` },
  Labels: {},
});
const APP = net('app', 'a'.repeat(64), '10.97.1.0/24', '10.97.1.1');
const DB = net('db', 'd'.repeat(64), '10.97.2.0/24', '10.97.2.1');
const BRIDGE = net('bridge', 'b'.repeat(64), '10.90.0.0/16', '10.90.0.1');

function rec(NetworkMode: string, EndpointsConfig: NonNullable<CreateRequest['NetworkingConfig']>['EndpointsConfig'] = {}) {
  const r = record('c'.repeat(64), 'web');
  const request: CreateRequest = { Image: 'busybox', HostConfig: { NetworkMode }, NetworkingConfig: { EndpointsConfig } } as CreateRequest;
  return { ...r, HostConfig: { ...r.HostConfig, NetworkMode }, Request: request };
}

test('connect adds the network to the stored request; none becomes the network; modes without networks refuse', () => {
  const r = withNetwork(rec('bridge'), APP, { Aliases: ['w'] });
  assert.deepEqual(requestedNetworks(requestOf(r)), ['bridge', 'app']);
  assert.deepEqual(requestOf(r).NetworkingConfig?.EndpointsConfig?.app, { Aliases: ['w'] });
  assert.throws(() => withNetwork(r, APP, {}), /endpoint with name web already exists in network app/);
  assert.throws(() => withNetwork(rec('default'), BRIDGE, {}), /already exists in network bridge/);
  const none = withNetwork(rec('none'), APP, {});
  assert.equal(none.HostConfig.NetworkMode, 'app');
  assert.deepEqual(requestedNetworks(requestOf(none)), ['app']);
  assert.throws(() => withNetwork(rec('host'), APP, {}), /host network/);
  assert.throws(() => withNetwork(rec('container:x'), APP, {}), /sharing network namespace/);
  assert.throws(() => withNetwork(rec('pasta'), APP, {}), /has --network pasta, which joins no bridge networks/);
});

test('disconnect: the next network becomes the first, none when none is left; an unknown one is an error', () => {
  const both = withNetwork(rec('app', { app: { Aliases: ['x'] } }), DB, { IPAMConfig: { IPv4Address: '10.97.2.9' } });
  const r = withoutNetwork(both, APP);
  assert.equal(r.HostConfig.NetworkMode, 'db');
  assert.deepEqual(requestedNetworks(requestOf(r)), ['db']);
  assert.deepEqual(requestOf(r).NetworkingConfig?.EndpointsConfig, { db: { IPAMConfig: { IPv4Address: '10.97.2.9' } } });
  assert.equal(withoutNetwork(r, DB).HostConfig.NetworkMode, 'none');
  assert.throws(() => withoutNetwork(r, APP), /container web is not connected to network app/);
  assert.equal(withoutNetwork(rec('default'), BRIDGE).HostConfig.NetworkMode, 'none');
});

const lease = (id: string, endpoints: Endpoint[]): NetworkLease => ({ containerId: id, root: '/r', owner: { pid: 1, startTime: 1 }, endpoints, ports: [] });

test('endpoints: the asked address or the first free one, names on user networks only, the first free ethN', () => {
  const owner = { id: 'f'.repeat(64), name: 'web', hostname: 'h' };
  const other = lease('o', [allocateEndpoint(APP, 'eth0', [], undefined, { id: 'o'.repeat(64), name: 'o', hostname: '' })]);
  const e = allocateEndpoint(APP, 'eth1', [other], { Aliases: ['w'] }, owner);
  assert.equal(e.ip, '10.97.1.3');
  assert.deepEqual(e.names, ['web', 'h', 'ffffffffffff', 'w']);
  assert.match(e.hostIf, /^veth[0-9a-f]{8}$/);
  assert.throws(() => allocateEndpoint(APP, 'eth1', [other], { IPAMConfig: { IPv4Address: '10.97.1.2' } }, owner), /10\.97\.1\.2 on network app: Address already in use/);
  assert.throws(() => allocateEndpoint(APP, 'eth1', [], { IPAMConfig: { IPv4Address: '10.97.2.2' } }, owner), /does not belong to network app/);
  assert.deepEqual(allocateEndpoint(BRIDGE, 'eth0', [], { Aliases: ['w'] }, owner).names, []);
  assert.equal(nextIfname([{ ...e, ifname: 'eth0' }, { ...e, ifname: 'eth2' }]), 'eth1');
});

test('hot-plug batches: the host side moves the peer into the netns by pid; the route only for the first endpoint', () => {
  const e = { ...allocateEndpoint(APP, 'eth1', [], undefined, { id: 'f'.repeat(64), name: 'web', hostname: '' }), hostIf: 'veth01234567' };
  const b = hotplugBatches(e, 4242, false);
  assert.equal(b.host, 'link add veth01234567 type veth peer name eth1 address 02:42:0a:61:01:02 netns 4242\nlink set veth01234567 master tsd-aaaaaaaa up\n');
  assert.equal(b.container, 'addr add 10.97.1.2/24 dev eth1\nlink set eth1 up\n');
  assert.match(hotplugBatches(e, 4242, true).container, /\nroute replace default via 10\.97\.1\.1\n$/);
});

test('dns views: a container sees the names of every user network it is on, and only those', () => {
  const owner = (n: string) => ({ id: n.repeat(64), name: n, hostname: '' });
  const a = lease('a', [allocateEndpoint(APP, 'eth0', [], undefined, owner('a'))]);
  const b = lease('b', [{ ...allocateEndpoint(APP, 'eth0', [a], undefined, owner('b')) }, allocateEndpoint(DB, 'eth1', [], undefined, owner('b'))]);
  const c = lease('c', [allocateEndpoint(DB, 'eth0', [b], undefined, owner('c'))]);
  const d = lease('d', [allocateEndpoint(BRIDGE, 'eth0', [], undefined, owner('d'))]);
  const v = dnsViews([a, b, c, d]);
  assert.deepEqual([...v.keys()].sort(), ['a', 'b', 'c']);
  assert.equal(v.get('a'), '10.97.1.2 a aaaaaaaaaaaa\n10.97.1.3 b bbbbbbbbbbbb\n');
  assert.equal(v.get('c'), '10.97.2.2 b bbbbbbbbbbbb\n10.97.2.3 c cccccccccccc\n');
  assert.equal(v.get('b')!.split('\n').filter(Boolean).length, 4);
});

test('rootless bridge endpoints: eth1 on, no routes in the plan (pasta\'s eth0 has them), none in the hot-plug either', async () => {
  const { containerSteps } = await import('../../../src/network/attach.js');
  const e = allocateEndpoint(APP, 'eth1', [], undefined, { id: 'f'.repeat(64), name: 'web', hostname: '' });
  assert.deepEqual(containerSteps([e], false), [{ op: 'netup', name: 'lo' }, { op: 'netaddr', name: 'eth1', address: '10.97.1.2', prefix: 24 }, { op: 'netup', name: 'eth1' }]);
  assert.equal(nextIfname([{ ...e, ifname: 'eth0' }]), 'eth1');
  assert.doesNotMatch(hotplugBatches(e, 1, false, false).container, /route/);
});
