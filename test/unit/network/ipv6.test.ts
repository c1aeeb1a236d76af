import { test } from 'node:test';
import assert from 'node:assert/strict';
import { containerSteps } from '../../../src/network/attach.js';
import { contains6, firstFree6, formatIPv6, formatSubnet6, overlaps6, parseIPv6, parseSubnet6, randomUla } from '../../../src/network/cidr6.js';
import { allocateEndpoint } from '../../../src/network/endpoint.js';
import { hotplugBatches } from '../../../src/network/hotplug.js';
import { renderRuleset } from '../../../src/network/nft.js';
import type { NetworkRecord } from '../../../src/network/types.js';

test('IPv6 text: RFC 5952 output (longest zero run, lowercase), embedded IPv4, bad text refused', () => {
  const cases: Array<[string, string]> = [
    ['fd00:0:0:0:0:0:0:1', 'fd00::1'],
    ['::', '::'],
    ['2001:DB8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0'],
    ['::ffff:10.0.0.1', '::ffff:a00:1'],
    ['fe80::1:2', 'fe80::1:2'],
  ];
  for (const [i, o] of cases) assert.equal(formatIPv6(parseIPv6(i)!), o, i);
  for (const bad of ['1:2', '1::2::3', ':::', '12345::', 'g::', '1.2.3.4', '::1.2.3.256']) assert.equal(parseIPv6(bad), undefined, bad);
});

test('IPv6 subnets: host bits refused, containment, overlap, first free after the gateway, a ULA /64', () => {
  const s = parseSubnet6('fd00:97:10::/64');
  assert.throws(() => parseSubnet6('fd00:97:10::1/64'), /invalid subnet fd00:97:10::1\/64: it should be fd00:97:10::\/64/);
  assert.throws(() => parseSubnet6('fd00::/124'), /\/120 or shorter/);
  assert.ok(contains6(s, parseIPv6('fd00:97:10::ffff')!));
  assert.ok(!contains6(s, parseIPv6('fd00:97:11::1')!));
  assert.ok(overlaps6(parseSubnet6('fd00:97::/32'), s));
  assert.ok(!overlaps6(parseSubnet6('fd00:97::/48'), s));
  assert.equal(formatIPv6(firstFree6(s, new Set([parseIPv6('fd00:97:10::1')!, parseIPv6('fd00:97:10::2')!]))!), 'fd00:97:10::3');
  assert.equal(formatSubnet6(randomUla(Buffer.from([0xab, 0xcd, 0xef, 0x01, 0x23]))), 'fdab:cdef:123::/64');
});

const NET6: NetworkRecord = {
  Name: 'v6',
  Id: '6'.repeat(64),
  Created: '',
  Scope: 'local',
  Driver: 'bridge',
  EnableIPv6: true,
  IPAM: { Driver: 'default', Options: {}, Config: [{ Subnet: '10.97.10.0/24', Gateway: '10.97.10.1' }, { Subnet: 'fd00:97:10::/64', Gateway: 'fd00:97:10::1' }] },
  Internal: false,
  Attachable: false,
  Ingress: false,
  ConfigFrom: { Network: '' },
  ConfigOnly: false,
  Options: { 'com.docker.network.bridge.name': 'tsd-6666' },
  Labels: {},
};
const owner = { id: 'f'.repeat(64), name: 'web', hostname: '' };

test('an endpoint on a dual-stack network: both addresses, --ip6 checked, both default routes in the plan and the hot-plug', () => {
  const e = allocateEndpoint(NET6, 'eth0', [], undefined, owner);
  assert.deepEqual([e.ip, e.ip6, e.prefix6, e.gateway6], ['10.97.10.2', 'fd00:97:10::2', 64, 'fd00:97:10::1']);
  const lease = { containerId: 'x', root: '/r', owner: { pid: 1, startTime: 1 }, endpoints: [{ ...e, ip6: 'fd00:97:10::9' }], ports: [] };
  assert.throws(() => allocateEndpoint(NET6, 'eth0', [lease], { IPAMConfig: { IPv6Address: 'fd00:97:10::9' } }, owner), /fd00:97:10::9 on network v6: Address already in use/);
  assert.throws(() => allocateEndpoint(NET6, 'eth0', [], { IPAMConfig: { IPv6Address: 'fd00:1::9' } }, owner), /does not belong to network v6/);
  assert.throws(() => allocateEndpoint({ ...NET6, EnableIPv6: false }, 'eth0', [], { IPAMConfig: { IPv6Address: 'fd00:97:10::9' } }, owner), /has no IPv6/);
  assert.deepEqual(containerSteps([e]), [
    { op: 'netup', name: 'lo' },
    { op: 'netaddr', name: 'eth0', address: '10.97.10.2', prefix: 24 },
    { op: 'netaddr', name: 'eth0', address: 'fd00:97:10::2', prefix: 64 },
    { op: 'netup', name: 'eth0' },
    { op: 'netroute', gateway: '10.97.10.1' },
    { op: 'netroute', gateway: 'fd00:97:10::1' },
  ]);
  assert.equal(hotplugBatches(e, 7, false, true).container, 'addr add 10.97.10.2/24 dev eth0\naddr add fd00:97:10::2/64 dev eth0 nodad\nlink set eth0 up\nroute replace default via fd00:97:10::1\n');
});

test('the ip6 table: egress masquerade and isolation for IPv6 networks only; removed when there is none', () => {
  const v4 = { bridge: 'tsdock0', network: 'bridge', subnet: '10.90.0.0/16', gateway: '10.90.0.1', internal: false };
  const v6 = { bridge: 'tsd-6666', network: 'v6', subnet: '10.97.10.0/24', gateway: '10.97.10.1', internal: false, subnet6: 'fd00:97:10::/64', gateway6: 'fd00:97:10::1' };
  const in6 = (r: { nftables: unknown[] }) => r.nftables.filter((x) => JSON.stringify(x).includes('"ip6"'));
  assert.deepEqual(in6(renderRuleset([v4], [])), [{ add: { table: { family: 'ip6', name: 'tsdock' } } }, { delete: { table: { family: 'ip6', name: 'tsdock' } } }]);
  const rules = in6(renderRuleset([v4, v6, { ...v6, bridge: 'tsd-7777', network: 'w6', subnet6: 'fd00:97:11::/64', internal: true }], [])).map((x) => JSON.stringify(x));
  assert.ok(rules.some((r) => r.includes('"masquerade"') && r.includes('fd00:97:10::')));
  assert.ok(!rules.some((r) => r.includes('"masquerade"') && r.includes('fd00:97:11::')), 'an internal network has no egress');
  assert.ok(rules.some((r) => r.includes('w6: internal')));
  assert.ok(rules.some((r) => r.includes('v6: isolated from other networks') && r.includes('tsd-7777')));
  assert.ok(!rules.some((r) => r.includes('tsdock0')), 'IPv4-only bridges are not in the ip6 table');
});

test('published ports on an IPv6 network: the [::] twin, its DNAT to the container IPv6 address, IPv4 rules untouched', async () => {
  const { resolvePorts } = await import('../../../src/network/attach.js');
  const ports = await resolvePorts({ portBindings: { '80/tcp': [{ HostIp: '', HostPort: '18480' }], '53/udp': [{ HostIp: 'fd00:97:99::1', HostPort: '18453' }] }, publishAll: false, exposed: [] }, new Set(), true);
  assert.deepEqual(ports, [
    { protocol: 'tcp', hostIp: '0.0.0.0', hostPort: 18480, containerPort: 80 },
    { protocol: 'tcp', hostIp: '::', hostPort: 18480, containerPort: 80 },
    { protocol: 'udp', hostIp: 'fd00:97:99::1', hostPort: 18453, containerPort: 53 },
  ]);
  await assert.rejects(resolvePorts({ portBindings: { '53/udp': [{ HostIp: 'fd00:97:99::1', HostPort: '18453' }] }, publishAll: false, exposed: [] }, new Set(), false), /the container has no IPv6 address/);
  const v6 = { bridge: 'tsd-6666', network: 'v6', subnet: '10.97.10.0/24', gateway: '10.97.10.1', internal: false, subnet6: 'fd00:97:10::/64', gateway6: 'fd00:97:10::1' };
  const ep = { network: 'v6', networkId: '6'.repeat(64), bridge: 'tsd-6666', ifname: 'eth0', hostIf: 'veth0', ip: '10.97.10.2', prefix: 24, gateway: '10.97.10.1', mac: '02:00:00:00:00:01', ip6: 'fd00:97:10::2', prefix6: 64, gateway6: 'fd00:97:10::1' };
  const lease = { containerId: 'c'.repeat(64), root: '/r', owner: { pid: 1, startTime: 1 }, endpoints: [ep], ports };
  const all = renderRuleset([v6], [lease as never]).nftables.map((x) => JSON.stringify(x));
  const dnat6 = all.filter((r) => r.includes('"dnat"') && r.includes('"ip6"'));
  assert.equal(dnat6.length, 2, dnat6.join('\n'));
  assert.ok(dnat6.some((r) => r.includes('"addr":"fd00:97:10::2","port":80') && !r.includes('daddr')), 'the [::] twin matches any host address');
  assert.ok(dnat6.some((r) => r.includes('"right":"fd00:97:99::1"') && r.includes('"addr":"fd00:97:10::2","port":53')));
  const dnat4 = all.filter((r) => r.includes('"dnat"') && !r.includes('"ip6"'));
  assert.equal(dnat4.length, 1, 'only the 0.0.0.0 binding is an IPv4 rule');
  assert.ok(all.some((r) => r.includes('"chain":{"family":"ip6","table":"tsdock","name":"prerouting"')));
});
