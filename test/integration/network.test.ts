import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { isRoot } from './shared-harness.js';
import { farClient, freePort, httpGet, retry, testStore, tsdock } from './helpers.js';

// Only loopback and the bridges/namespaces tsdock makes here: no traffic to any other address. Name lookups
// that must fail go to --dns 127.0.0.1 (nothing answers inside the container), never to the host's resolver.

const has = (bin: string) => ['/usr/sbin', '/sbin', '/usr/bin'].some((d) => fs.existsSync(`${d}/${bin}`));
const skip = !isRoot ? 'needs root (bridges, veths, nftables)' : !has('nft') ? 'nft is not installed (apt-get install nftables)' : false;
const NET_RUN = '/run/tsdock/net';

function leases(): string[] {
  try {
    return fs.readdirSync(`${NET_RUN}/leases`);
  } catch {
    return [];
  }
}
const links = () => execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' });
const portsChain = () => execFileSync('nft', ['list', 'chain', 'ip', 'tsdock', 'ports'], { encoding: 'utf8' });

/** an address of this host that is not loopback and not one of tsdock's bridges */
function hostAddress(): string | undefined {
  const out = execFileSync('ip', ['-4', '-o', 'addr', 'show', 'scope', 'global'], { encoding: 'utf8' });
  for (const line of out.split('\n')) {
    const m = /^\d+:\s+(\S+)\s+inet\s+([\d.]+)\//.exec(line);
    if (m && !m[1]!.startsWith('tsd')) return m[2];
  }
  return undefined;
}

const HTTPD = (text: string) => ['sh', '-c', `mkdir -p /w && echo ${text} > /w/index.html && exec httpd -f -vv -p 80 -h /w`];

describe('networking: bridge, published ports, user networks', { skip }, () => {
  const store = testStore('network');
  const { ok } = store;

  test('-p publishes on loopback and the host address, keeps the source address; port, ps, inspect; stop frees it', async () => {
    const port = await freePort();
    const id = (await ok(['run', '-d', '--name', 'net-web', '-p', `${port}:80`, store.image, ...HTTPD('hello')])).trim();
    assert.equal(await retry(() => httpGet(`http://127.0.0.1:${port}/index.html`)), 'hello\n');
    const host = hostAddress();
    if (host) {
      assert.equal(await httpGet(`http://${host}:${port}/index.html`), 'hello\n');
      // the server saw the client's real address (the host's own), not the bridge's gateway
      await retry(async () => assert.match((await tsdock(['logs', 'net-web'], { root: store.root })).stderr, new RegExp(`${host.replace(/\./g, '\\.')}\\]?:\\d+: url:/index.html`)));
    }
    assert.equal(await ok(['port', 'net-web']), `80/tcp -> 0.0.0.0:${port}\n`);
    assert.equal(await ok(['port', 'net-web', '80']), `0.0.0.0:${port}\n`);
    assert.match(await ok(['ps']), new RegExp(`0\\.0\\.0\\.0:${port}->80/tcp\\s+net-web`));
    const settings = JSON.parse(await ok(['inspect', '-f', '{{json .NetworkSettings}}', 'net-web'])) as { IPAddress: string; Gateway: string; MacAddress: string; Ports: Record<string, Array<{ HostPort: string }>>; Networks: Record<string, { IPAddress: string }> };
    assert.match(settings.IPAddress, /^10\.90\.\d+\.\d+$/);
    assert.equal(settings.Gateway, '10.90.0.1');
    assert.equal(settings.Ports['80/tcp']?.[0]?.HostPort, String(port));
    assert.equal(settings.Networks.bridge?.IPAddress, settings.IPAddress);
    // a second container cannot take the port: an error at start, exit 125
    const clash = await tsdock(['run', '--rm', '-p', `${port}:80`, store.image, 'true'], { root: store.root });
    assert.equal(clash.code, 125, clash.stderr);
    assert.match(clash.stderr, /^Error: .*(address already in use|already allocated)/m);
    await ok(['rm', '-f', id]);
    assert.ok(!leases().includes(`${id}.json`), 'lease released');
    assert.doesNotMatch(portsChain(), new RegExp(`dport ${port} `));
    await assert.rejects(httpGet(`http://127.0.0.1:${port}/`));
    await new Promise<void>((resolve, reject) => {
      const s = net.createServer().once('error', reject);
      s.listen(port, '0.0.0.0', () => s.close(() => resolve()));
    });
  });

  test("-p: a client elsewhere (a network namespace of the test's own) reaches the host's address, the container sees the client's address", async () => {
    const port = await freePort();
    const far = farClient('203.0.113', 'rf');
    try {
      await ok(['run', '-d', '--name', 'net-far', '-p', `${port}:80`, store.image, ...HTTPD('far')]);
      assert.equal(await retry(async () => far.get(`http://${far.host}:${port}/index.html`)), 'far\n');
      await retry(async () => assert.match((await tsdock(['logs', 'net-far'], { root: store.root })).stderr, new RegExp(`${far.client.replaceAll('.', '\\.')}\\]?:\\d+: url:/index.html`)));
      await ok(['rm', '-f', 'net-far']);
      assert.throws(() => far.get(`http://${far.host}:${port}/index.html`));
    } finally {
      await tsdock(['rm', '-f', 'net-far'], { root: store.root });
      far.close();
    }
  });

  test('-p 127.0.0.1:PORT answers on loopback only; -P picks a free port for --expose', async () => {
    const port = await freePort();
    await ok(['run', '-d', '--name', 'net-lo', '-p', `127.0.0.1:${port}:80`, store.image, ...HTTPD('lo')]);
    assert.equal(await retry(() => httpGet(`http://127.0.0.1:${port}/index.html`)), 'lo\n');
    const host = hostAddress();
    if (host) await assert.rejects(httpGet(`http://${host}:${port}/index.html`));
    await ok(['run', '-d', '--name', 'net-all', '--expose', '80', '-P', store.image, ...HTTPD('all')]);
    const line = (await ok(['port', 'net-all', '80/tcp'])).trim();
    const picked = Number(line.split(':')[1]);
    assert.ok(picked > 0, line);
    assert.equal(await retry(() => httpGet(`http://127.0.0.1:${picked}/index.html`)), 'all\n');
    await ok(['rm', '-f', 'net-lo', 'net-all']);
  });

  test('a user network resolves names and aliases; the default bridge does not; none has only lo; container: shares', async () => {
    await ok(['network', 'create', '--subnet', '10.97.5.0/24', 'net-app']);
    assert.match(await ok(['network', 'ls']), /net-app\s+bridge\s+local/);
    await ok(['run', '-d', '--name', 'net-b', '--network', 'net-app', '--network-alias', 'bee', '--ip', '10.97.5.50', store.image, ...HTTPD('from-b')]);
    const out = await ok(['run', '--rm', '--network', 'net-app', store.image, 'sh', '-c', 'wget -qO- http://net-b/index.html; wget -qO- http://bee/index.html; ip -4 -o addr show eth0']);
    assert.match(out, /^from-b\nfrom-b\n.*inet 10\.97\.5\.\d+\/24/);
    // the resolver at 127.0.0.11: a container started first resolves a peer (and its alias) started after it
    await ok(['run', '-d', '--name', 'net-q', '--network', 'net-app', store.image, 'sleep', '60']);
    assert.match(await ok(['exec', 'net-q', 'cat', '/etc/resolv.conf']), /^nameserver 127\.0\.0\.11$/m);
    await ok(['run', '-d', '--name', 'net-c', '--network', 'net-app', '--network-alias', 'sea', store.image, 'sleep', '60']);
    const cip = (await ok(['inspect', '-f', '{{(index .NetworkSettings.Networks "net-app").IPAddress}}', 'net-c'])).trim();
    for (const name of ['net-c', 'sea', 'net-b', 'bee']) {
      const want = name === 'net-c' || name === 'sea' ? cip : '10.97.5.50';
      const ns = await ok(['exec', 'net-q', 'nslookup', '-type=a', name]);
      assert.match(ns, new RegExp(`Name:\\s+${name}(\\.\\S*)?\\nAddress:\\s+${want.replaceAll('.', '\\.')}\\n`), ns);
    }
    const nx = await tsdock(['exec', 'net-q', 'nslookup', '-type=a', 'no-such-peer'], { root: store.root });
    assert.notEqual(nx.code, 0, nx.stdout);
    await ok(['rm', '-f', 'net-c']);
    const gone = await tsdock(['exec', 'net-q', 'nslookup', '-type=a', 'net-c'], { root: store.root });
    assert.notEqual(gone.code, 0, `a removed peer no longer resolves: ${gone.stdout}`);
    await ok(['rm', '-f', 'net-q']);
    const dflt = await tsdock(['run', '--rm', '--dns', '127.0.0.1', store.image, 'sh', '-c', 'wget -T 2 -qO- http://net-b/index.html'], { root: store.root });
    assert.notEqual(dflt.code, 0, 'names do not resolve on the default bridge');
    const none = await ok(['run', '--rm', '--network', 'none', store.image, 'ip', '-o', 'link']);
    assert.deepEqual(none.trim().split('\n').map((l) => l.split(':')[1]!.trim()), ['lo']);
    assert.match(none, /UP/);
    const shared = await ok(['run', '--rm', '--network', 'container:net-b', store.image, 'ip', '-4', '-o', 'addr', 'show', 'eth0']);
    assert.match(shared, /10\.97\.5\.50\/24/);
    const info = JSON.parse(await ok(['network', 'inspect', 'net-app'])) as Array<{ IPAM: { Config: Array<{ Subnet: string; Gateway: string }> }; Containers: Record<string, { Name: string }> }>;
    assert.equal(info[0]!.IPAM.Config[0]!.Gateway, '10.97.5.1');
    assert.deepEqual(Object.values(info[0]!.Containers).map((c) => c.Name), ['net-b']);
    const busy = await tsdock(['network', 'rm', 'net-app'], { root: store.root });
    assert.equal(busy.code, 1);
    assert.match(busy.stderr, /active endpoints/);
    const bridge = (await ok(['network', 'inspect', '-f', '{{index .Options "com.docker.network.bridge.name"}}', 'net-app'])).trim();
    assert.match(bridge, /^tsd-/);
    await ok(['rm', '-f', 'net-b']);
    await ok(['network', 'rm', 'net-app']);
    assert.ok(!links().includes(`${bridge}:`), `${bridge} is gone`);
  });

  test('network connect/disconnect: a running container gets and loses an interface; the change outlives a restart', async () => {
    await ok(['network', 'create', '--subnet', '10.97.8.0/24', 'net-conn']);
    await ok(['network', 'create', '--subnet', '10.97.9.0/24', 'net-conn2']);
    await ok(['run', '-d', '--name', 'net-peer', '--network', 'net-conn', '--network-alias', 'pal', store.image, ...HTTPD('peer')]);
    await ok(['run', '-d', '--name', 'net-s1', '--network', 'net-conn2', store.image, 'sleep', '120']);
    await ok(['network', 'connect', '--alias', 'one', '--ip', '10.97.8.77', 'net-conn', 'net-s1']);
    assert.match(await ok(['exec', 'net-s1', 'ip', '-4', '-o', 'addr', 'show', 'eth1']), /inet 10\.97\.8\.77\/24/);
    assert.equal(await ok(['exec', 'net-s1', 'wget', '-qO-', 'http://pal/index.html']), 'peer\n', 'its resolver answers the new network');
    for (const name of ['net-s1', 'one']) assert.match(await ok(['exec', 'net-peer', 'nslookup', '-type=a', name]), /Address:\s+10\.97\.8\.77\n/);
    const nets = JSON.parse(await ok(['inspect', '-f', '{{json .NetworkSettings.Networks}}', 'net-s1'])) as Record<string, { IPAddress: string; Aliases: string[] | null }>;
    assert.deepEqual(Object.keys(nets).sort(), ['net-conn', 'net-conn2']);
    assert.deepEqual(nets['net-conn']!.Aliases, ['one']);
    const again = await tsdock(['network', 'connect', 'net-conn', 'net-s1'], { root: store.root });
    assert.equal(again.code, 1);
    assert.match(again.stderr, /^Error: endpoint with name net-s1 already exists in network net-conn$/m);
    // its first network goes: eth0 with it, and the default route moves to the network left
    const hostIf = (nets['net-conn2'] as unknown as { EndpointID: string }).EndpointID;
    await ok(['network', 'disconnect', 'net-conn2', 'net-s1']);
    assert.ok(!links().includes(`${hostIf}@`), `${hostIf} is gone`);
    assert.match(await ok(['exec', 'net-s1', 'ip', 'route']), /^default via 10\.97\.8\.1 dev eth1/m);
    const lost = await tsdock(['exec', 'net-s1', 'ip', 'link', 'show', 'eth0'], { root: store.root });
    assert.notEqual(lost.code, 0);
    const not = await tsdock(['network', 'disconnect', 'net-conn2', 'net-s1'], { root: store.root });
    assert.match(not.stderr, /^Error: container net-s1 is not connected to network net-conn2$/m);
    // a restart joins what the container is connected to now, with the address asked for
    await ok(['stop', '-t', '0', 'net-s1']);
    await ok(['start', 'net-s1']);
    assert.match(await ok(['exec', 'net-s1', 'ip', '-4', '-o', 'addr', 'show', 'eth0']), /inet 10\.97\.8\.77\/24/);
    await ok(['network', 'disconnect', 'net-conn', 'net-s1']);
    assert.deepEqual((await ok(['exec', 'net-s1', 'ip', '-o', 'link'])).trim().split('\n').map((l) => l.split(':')[1]!.trim()), ['lo']);
    const gone = await tsdock(['exec', 'net-peer', 'nslookup', '-type=a', 'one'], { root: store.root });
    assert.notEqual(gone.code, 0, `a disconnected container no longer resolves: ${gone.stdout}`);
    // a created container is connected for its first start; host-mode containers have no networks to join
    await ok(['create', '--name', 'net-cr', store.image, 'sleep', '60']);
    await ok(['network', 'connect', 'net-conn', 'net-cr']);
    await ok(['start', 'net-cr']);
    assert.match(await ok(['exec', 'net-cr', 'ip', '-4', '-o', 'addr', 'show', 'eth1']), /inet 10\.97\.8\.\d+\/24/);
    await ok(['create', '--name', 'net-host', '--network', 'host', store.image, 'true']);
    const host = await tsdock(['network', 'connect', 'net-conn', 'net-host'], { root: store.root });
    assert.equal(host.code, 1);
    assert.match(host.stderr, /host network/);
    await ok(['rm', '-f', 'net-s1', 'net-peer', 'net-cr', 'net-host']);
    await ok(['network', 'rm', 'net-conn', 'net-conn2']);
  });

  test('egress: a server on the host, bound to the gateway, is reachable', async () => {
    await ok(['run', '--rm', store.image, 'true']); // the default bridge exists from here on
    const server = http.createServer((_, res) => res.end('egress-ok'));
    await new Promise<void>((r) => server.listen(0, '10.90.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    try {
      assert.equal(await ok(['run', '--rm', store.image, 'wget', '-qO-', `http://10.90.0.1:${port}/`]), 'egress-ok');
    } finally {
      server.close();
    }
  });

  test('20 concurrent run -d get 20 distinct addresses; rm -f and kill -9 leave no veth, lease or rule', async () => {
    const runs = await Promise.all(Array.from({ length: 20 }, (_, i) => tsdock(['run', '-d', '--name', `net-many-${i}`, store.image, 'sleep', '60'], { root: store.root })));
    for (const r of runs) assert.equal(r.code, 0, r.stderr);
    const ips = await Promise.all(runs.map((_, i) => ok(['inspect', '-f', '{{.NetworkSettings.IPAddress}}', `net-many-${i}`])));
    assert.equal(new Set(ips.map((s) => s.trim())).size, 20, ips.join(','));
    const hostIfs = (await Promise.all(runs.map((_, i) => ok(['inspect', '-f', '{{(index .NetworkSettings.Networks "bridge").EndpointID}}', `net-many-${i}`])))).map((s) => s.trim());
    for (const v of hostIfs) assert.match(v, /^veth[0-9a-f]{8}$/, 'every container holds its lease and veth');
    const ids = runs.map((r) => `${r.stdout.trim()}.json`);
    await ok(['rm', '-f', ...runs.map((_, i) => `net-many-${i}`)]);
    // the lease directory is the host's (other tests' containers may be there): none of these is left
    const left = leases();
    assert.deepEqual(ids.filter((f) => left.includes(f)), []);
    // a veth goes with its container's network namespace, which the kernel tears down on a work queue after the
    // last process left it: gone soon after rm, not necessarily before rm returns (the machine may be busy)
    await retry(async () => {
      const l = links();
      for (const v of hostIfs) assert.ok(!l.includes(`${v}@`), `${v} is gone`);
    }, 10_000);

    // kill -9 of the container's init and its monitor: the next rm collects what it held
    const port = await freePort();
    const id = (await ok(['run', '-d', '--name', 'net-killed', '-p', `${port}:80`, store.image, 'sleep', '60'])).trim();
    const state = JSON.parse(fs.readFileSync(`${store.root}/containers/${id}/state.json`, 'utf8')) as { Pid: number; MonitorPid?: number };
    if (state.MonitorPid) process.kill(state.MonitorPid, 'SIGKILL');
    process.kill(state.Pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 300));
    await ok(['rm', '-f', id]);
    assert.ok(!leases().includes(`${id}.json`));
    assert.doesNotMatch(portsChain(), new RegExp(`dport ${port} `));
  });

  test('network create refuses what docker refuses', async () => {
    const bad = async (args: string[], re: RegExp) => {
      const r = await tsdock(['network', 'create', ...args], { root: store.root });
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, re);
    };
    await bad(['--subnet', '10.97.6.1/24', 'x1'], /invalid subnet 10\.97\.6\.1\/24: it should be 10\.97\.6\.0\/24/);
    await bad(['--subnet', '10.97.6.0/24', '--gateway', '10.97.7.1', 'x2'], /not in subnet/);
    await bad(['--driver', 'macvlan', 'x3'], /unsupported network driver/);
    await bad(['bridge'], /already exists/);
    const rm = await tsdock(['network', 'rm', 'bridge'], { root: store.root });
    assert.match(rm.stderr, /pre-defined network and cannot be removed/);
  });
});
