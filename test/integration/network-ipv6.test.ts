import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { isRoot } from './shared-harness.js';
import { freePort, httpGet, retry, testStore, tsdock } from './helpers.js';

// Only the bridges tsdock makes here and ULA addresses on them: no traffic leaves the host.

const has = (bin: string) => ['/usr/sbin', '/sbin', '/usr/bin'].some((d) => fs.existsSync(`${d}/${bin}`));
const skip = !isRoot ? 'needs root (bridges, veths, nftables)' : !has('nft') ? 'nft is not installed (apt-get install nftables)' : !fs.existsSync('/proc/sys/net/ipv6') ? 'the kernel has no IPv6' : false;
const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'ignore' });
const table6 = () => {
  try {
    return execFileSync('nft', ['list', 'table', 'ip6', 'tsdock'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return undefined;
  }
};

describe('IPv6 networks: network create --ipv6, --ip6, AAAA names, the ip6 table', { skip }, () => {
  const store = testStore('network6');
  const { ok } = store;

  test('a dual-stack network: addresses, the IPv6 default route, AAAA answers, the host on the gateway, connect --ip6', async () => {
    const auto = JSON.parse(await ok(['network', 'inspect', (await ok(['network', 'create', '--ipv6', 'net6-auto'])).trim()])) as Array<{ EnableIPv6: boolean; IPAM: { Config: Array<{ Subnet: string; Gateway: string }> } }>;
    assert.equal(auto[0]!.EnableIPv6, true);
    assert.match(auto[0]!.IPAM.Config[1]!.Subnet, /^fd[0-9a-f]{2}:[0-9a-f]{1,4}:[0-9a-f]{1,4}::\/64$/, 'a random ULA /64');
    assert.equal(auto[0]!.IPAM.Config[1]!.Gateway, auto[0]!.IPAM.Config[1]!.Subnet.replace('::/64', '::1'));
    await ok(['network', 'rm', 'net6-auto']);
    const refused = await tsdock(['network', 'create', '--subnet', 'fd00:97:11::/64', 'net6-no'], { root: store.root });
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /needs --ipv6/);

    await ok(['network', 'create', '--ipv6', '--subnet', '10.97.10.0/24', '--subnet', 'fd00:97:10::/64', 'net6']);
    await ok(['run', '-d', '--name', 'v6-b', '--network', 'net6', '--ip6', 'fd00:97:10::50', store.image, 'sh', '-c', 'mkdir -p /w && echo six > /w/index.html && exec httpd -f -p 80 -h /w']);
    assert.equal((await ok(['inspect', '-f', '{{.NetworkSettings.GlobalIPv6Address}} {{(index .NetworkSettings.Networks "net6").IPv6Gateway}}', 'v6-b'])).trim(), 'fd00:97:10::50 fd00:97:10::1');
    // the host reaches it over the bridge, and another container by address and by name (AAAA)
    assert.equal(await retry(() => httpGet('http://[fd00:97:10::50]/index.html')), 'six\n');
    const server = http.createServer((_, res) => res.end('host6'));
    await new Promise<void>((r) => server.listen(0, 'fd00:97:10::1', r));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const out = await ok(['run', '--rm', '--network', 'net6', store.image, 'sh', '-c', `ip -6 -o addr show eth0 scope global; ip -6 route show default; wget -qO- http://[fd00:97:10::50]/index.html; nslookup -type=aaaa v6-b; wget -qO- http://[fd00:97:10::1]:${port}/`]);
      assert.match(out, /inet6 fd00:97:10::2\/64/);
      assert.match(out, /^default via fd00:97:10::1 dev eth0/m);
      assert.match(out, /^six$/m);
      assert.match(out, /Address:\s+fd00:97:10::50\n/);
      assert.match(out, /host6$/);
    } finally {
      server.close();
    }
    const nets = JSON.parse(await ok(['network', 'inspect', 'net6'])) as Array<{ Containers: Record<string, { IPv6Address: string }> }>;
    assert.deepEqual(Object.values(nets[0]!.Containers).map((c) => c.IPv6Address), ['fd00:97:10::50/64']);
    assert.match(table6() ?? '', /ip6 saddr fd00:97:10::\/64 ip6 daddr != fd00:97:10::\/64 masquerade/);
    const clash = await tsdock(['run', '--rm', '--network', 'net6', '--ip6', 'fd00:97:10::50', store.image, 'true'], { root: store.root });
    assert.equal(clash.code, 125);
    assert.match(clash.stderr, /fd00:97:10::50 on network net6: Address already in use/);

    // a running IPv4-only container joins: the address asked for, and an IPv6 default route
    await ok(['run', '-d', '--name', 'v6-late', store.image, 'sleep', '60']);
    await ok(['network', 'connect', '--ip6', 'fd00:97:10::77', 'net6', 'v6-late']);
    const late = await ok(['exec', 'v6-late', 'sh', '-c', 'ip -6 -o addr show eth1 scope global; ip -6 route show default; wget -qO- http://[fd00:97:10::50]/index.html']);
    assert.match(late, /inet6 fd00:97:10::77\/64/);
    assert.match(late, /^default via fd00:97:10::1 dev eth1/m);
    assert.match(late, /^six$/m);
    await ok(['rm', '-f', 'v6-b', 'v6-late']);
    await ok(['network', 'rm', 'net6']);
    assert.equal(table6(), undefined, 'no IPv6 network left: no ip6 table');
  });

  test('-p on an IPv6 network publishes on [::] too: the host reaches it on its own IPv6 address, the source kept; -p [addr]:h:c', async () => {
    // a host address that is neither loopback nor a tsdock bridge: on a veth pair of this test's own (this kernel
    // has no dummy links), removed after
    const dummy = `t6p${process.pid % 10000}`;
    ip('link', 'add', dummy, 'type', 'veth', 'peer', 'name', `${dummy}b`);
    try {
      ip('addr', 'add', 'fd00:97:99::1/64', 'dev', dummy, 'nodad');
      ip('link', 'set', dummy, 'up');
      await ok(['network', 'create', '--ipv6', '--subnet', '10.97.12.0/24', '--subnet', 'fd00:97:12::/64', 'net6p']);
      const [port, only] = [await freePort(), await freePort()];
      const web = ['sh', '-c', 'mkdir -p /w && echo six > /w/index.html && exec httpd -f -vv -p 80 -h /w'];
      await ok(['run', '-d', '--name', 'v6-web', '--network', 'net6p', '-p', `${port}:80`, store.image, ...web]);
      assert.equal(await ok(['port', 'v6-web']), `80/tcp -> 0.0.0.0:${port}\n80/tcp -> [::]:${port}\n`);
      assert.match(await ok(['ps']), new RegExp(`0\\.0\\.0\\.0:${port}->80/tcp, \\[::\\]:${port}->80/tcp\\s+v6-web`));
      assert.equal(await retry(() => httpGet(`http://[fd00:97:99::1]:${port}/index.html`)), 'six\n');
      assert.equal(await httpGet(`http://127.0.0.1:${port}/index.html`), 'six\n', 'the IPv4 side still answers');
      // the server saw the client's own address, not the gateway's
      await retry(async () => assert.match((await tsdock(['logs', 'v6-web'], { root: store.root })).stderr, /fd00:97:99::1\]?:\d+: url:\/index\.html/));
      // a binding to one IPv6 address answers there only
      await ok(['run', '-d', '--name', 'v6-one', '--network', 'net6p', '-p', `[fd00:97:99::1]:${only}:80`, store.image, ...web]);
      assert.equal(await ok(['port', 'v6-one', '80']), `[fd00:97:99::1]:${only}\n`);
      assert.equal(await retry(() => httpGet(`http://[fd00:97:99::1]:${only}/index.html`)), 'six\n');
      await assert.rejects(httpGet(`http://[fd00:97:12::1]:${only}/index.html`));
      await assert.rejects(httpGet(`http://127.0.0.1:${only}/index.html`));
      // an IPv4-only container cannot publish on an IPv6 address: an engine error, nothing kept
      const v4 = await tsdock(['run', '--rm', '-p', `[fd00:97:99::1]:${only}:80`, store.image, 'true'], { root: store.root });
      assert.equal(v4.code, 125, v4.stderr);
      assert.match(v4.stderr, /^Error: publishing \[fd00:97:99::1\]:\d+: the container has no IPv6 address/m);
      const bad = await tsdock(['run', '--rm', '-p', `[fd00:97:99::zz]:${only}:80`, store.image, 'true'], { root: store.root });
      assert.equal(bad.code, 125);
      assert.match(bad.stderr, /invalid IP address: fd00:97:99::zz/);
      await ok(['rm', '-f', 'v6-web', 'v6-one']);
      assert.doesNotMatch(table6() ?? '', new RegExp(`dport (${port}|${only}) `), 'the ip6 DNAT rules are gone');
      await new Promise<void>((resolve, reject) => {
        const s = net.createServer().once('error', reject);
        s.listen({ port, host: '::', ipv6Only: true }, () => s.close(() => resolve()));
      });
      await ok(['network', 'rm', 'net6p']);
    } finally {
      ip('link', 'del', dummy);
    }
  });
});
