import { test } from 'node:test';
import assert from 'node:assert/strict';
import { firstFree, formatIPv4, macFor, overlaps, parseIPv4, parseSubnet } from '../../../src/network/cidr.js';
import { renderRuleset } from '../../../src/network/nft.js';
import { hostRoutes } from '../../../src/network/store.js';
import type { NetworkLease } from '../../../src/network/types.js';

test('cidr: parse, refuse host bits, overlap, first free address skips network, gateway, used and broadcast', () => {
  const s = parseSubnet('10.91.3.0/24');
  assert.equal(formatIPv4(s.base), '10.91.3.0');
  assert.throws(() => parseSubnet('10.91.3.1/24'), /invalid subnet 10\.91\.3\.1\/24: it should be 10\.91\.3\.0\/24/);
  assert.throws(() => parseSubnet('10.91.3.0/33'), /invalid CIDR address/);
  assert.ok(overlaps(parseSubnet('10.90.0.0/16'), parseSubnet('10.90.7.0/24')));
  assert.ok(!overlaps(parseSubnet('10.90.0.0/16'), parseSubnet('10.91.0.0/24')));
  const used = new Set([parseIPv4('10.91.3.1')!, parseIPv4('10.91.3.2')!]);
  assert.equal(formatIPv4(firstFree(s, used)!), '10.91.3.3');
  assert.equal(formatIPv4(firstFree(s, used, parseSubnet('10.91.3.128/25'))!), '10.91.3.128');
  const tiny = parseSubnet('10.91.3.0/30');
  assert.equal(firstFree(tiny, new Set([parseIPv4('10.91.3.1')!, parseIPv4('10.91.3.2')!])), undefined);
  assert.equal(macFor(parseIPv4('10.90.0.2')!), '02:42:0a:5a:00:02');
});

test('host routes from /proc/net/route (little-endian hex), the default route left out', () => {
  const text = 'Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\n' + 'eth0\t00000000\t0102000A\t0003\t0\t0\t0\t00000000\n' + 'eth0\t0000000A\t00000000\t0001\t0\t0\t0\t0000FFFF\n';
  assert.deepEqual(hostRoutes(text).map((r) => `${formatIPv4(r.base)}/${r.prefix}`), ['10.0.0.0/16']);
});

test('the nft table: atomic replace, egress and loopback masquerade per bridge, isolation, internal, DNAT per port', () => {
  const lease: NetworkLease = {
    containerId: 'c'.repeat(64),
    root: '/r',
    owner: { pid: 1, startTime: 1 },
    endpoints: [{ network: 'bridge', networkId: 'n1', bridge: 'tsdock0', ifname: 'eth0', hostIf: 'veth1', ip: '10.90.0.2', prefix: 16, gateway: '10.90.0.1', mac: '02:42:0a:5a:00:02', aliases: [], names: [] }],
    ports: [
      { protocol: 'tcp', hostIp: '0.0.0.0', hostPort: 8080, containerPort: 80 },
      { protocol: 'udp', hostIp: '127.0.0.1', hostPort: 5353, containerPort: 53 },
    ],
  };
  const r = renderRuleset(
    [
      { bridge: 'tsdock0', network: 'bridge', subnet: '10.90.0.0/16', gateway: '10.90.0.1', internal: false },
      { bridge: 'tsd-x', network: 'inner', subnet: '10.91.0.0/24', gateway: '10.91.0.1', internal: true },
    ],
    [lease],
  );
  const text = JSON.stringify(r);
  assert.deepEqual(r.nftables.slice(0, 3), [{ add: { table: { family: 'ip', name: 'tsdock' } } }, { delete: { table: { family: 'ip', name: 'tsdock' } } }, { add: { table: { family: 'ip', name: 'tsdock' } } }]);
  const rules = r.nftables.flatMap((x) => ((x as { add?: { rule?: { chain: string; expr: unknown[]; comment?: string } } }).add?.rule ? [(x as { add: { rule: { chain: string; expr: unknown[]; comment?: string } } }).add.rule] : []));
  const inChain = (c: string) => rules.filter((x) => x.chain === c);
  assert.equal(inChain('ports').length, 2);
  assert.deepEqual(inChain('ports')[0]!.expr, [{ match: { op: '==', left: { payload: { protocol: 'tcp', field: 'dport' } }, right: 8080 } }, { dnat: { addr: '10.90.0.2', port: 80 } }]);
  assert.deepEqual(inChain('ports')[1]!.expr[0], { match: { op: '==', left: { payload: { protocol: 'ip', field: 'daddr' } }, right: '127.0.0.1' } });
  assert.equal(inChain('postrouting').filter((x) => x.comment?.endsWith('egress')).length, 1, 'no egress for the internal network');
  assert.equal(inChain('raw').length, 2, 'both bridges drop 127/8');
  assert.equal(inChain('forward').filter((x) => x.comment?.includes('internal')).length, 2);
  assert.match(text, /"set":\["tsd-x"\]/);
});
