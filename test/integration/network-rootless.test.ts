import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { getHarness, isRoot, type HarnessData } from './shared-harness.js';
import { asUserArgv, collect, endRootless, farClient, freePort, httpGet, retry, tempRoot, uidOf, type RunResult } from './helpers.js';

const USER = 'tsdock-test';
const uid = isRoot ? uidOf(USER) : undefined;
function onPath(file: string): boolean {
  return (process.env.PATH ?? '').split(':').some((d) => fs.existsSync(path.join(d, file)));
}
const tunOpen = (() => {
  try {
    return (fs.statSync('/dev/net/tun').mode & 0o006) === 0o006;
  } catch {
    return false;
  }
})();
const skip = !isRoot
  ? 'needs root to switch to the unprivileged test user'
  : uid === undefined
    ? `no ${USER} user (scripts/install-deps.sh creates it)`
    : !onPath('pasta')
      ? 'no pasta (scripts/install-deps.sh installs passt)'
      : !tunOpen
        ? '/dev/net/tun is not 0666 (scripts/install-deps.sh makes it so)'
        : false;

const get = (port: number): Promise<string> => httpGet(`http://127.0.0.1:${port}/`);

/** the pasta processes serving a container of this store (their --pid file is in its container dir) */
function pastaOf(root: string): number[] {
  const out: number[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const argv = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
      if (/pasta/.test(argv[0] ?? '') && argv.some((a) => a.startsWith(`${root}/`))) out.push(Number(d));
    } catch {
      // gone
    }
  }
  return out;
}

/** the slirp4netns processes serving containers of this test (their API socket is in its runtime dir) */
function slirpOf(runtime: string): number[] {
  return fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d)).flatMap((d) => {
    try {
      const argv = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
      return /slirp4netns$/.test(argv[0] ?? '') && argv.some((a) => a.startsWith(`${runtime}/`)) ? [Number(d)] : [];
    } catch {
      return [];
    }
  });
}

const HTTPD = (text: string) => ['sh', '-c', `mkdir -p /w && echo ${text} > /w/index.html && exec httpd -f -vv -p 80 -h /w`];

describe('rootless networking: pasta by default, published ports, the host through the gateway', { skip }, () => {
  let h: HarnessData;
  let root: string;
  let runtime: string;
  let image: string;
  const asUser = (args: string[], env?: Record<string, string>): Promise<RunResult> => collect(asUserArgv(USER, runtime, root, args, env));

  before(async () => {
    h = await getHarness();
    image = h.fixtures.busyboxV2s2.ref;
    root = tempRoot('net-rootless').root;
    runtime = tempRoot('net-rootless-xdg').root;
    fs.chownSync(runtime, uid!, 0);
    fs.chownSync(root, uid!, uid!);
    const r = await asUser(['pull', '-q', image]);
    assert.equal(r.code, 0, r.stderr);
  });

  after(async () => {
    await endRootless(asUser, runtime);
    assert.deepEqual(pastaOf(root), [], 'no pasta left behind');
  });

  test('the default network is pasta: eth0 with the host address and routes, the gateway names the host', async () => {
    const r = await asUser(['run', '--rm', image, 'sh', '-c', 'ip -o -4 addr show eth0; ip route; grep host.containers.internal /etc/hosts']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, '');
    assert.match(r.stdout, /eth0\s+inet \d+\.\d+\.\d+\.\d+\//);
    const gw = /default via (\S+)/.exec(r.stdout)?.[1];
    assert.ok(gw, r.stdout);
    assert.match(r.stdout, new RegExp(`^${gw.replaceAll('.', '\\.')}\\s+host\\.containers\\.internal$`, 'm'));
    const c = await asUser(['create', image, 'true']);
    assert.equal(c.code, 0, c.stderr);
    const mode = await asUser(['inspect', '--format', '{{.HostConfig.NetworkMode}} {{range $k, $v := .NetworkSettings.Networks}}{{$k}}{{end}}', c.stdout.trim()]);
    assert.equal(mode.stdout.trim(), 'pasta pasta');
    assert.equal((await asUser(['rm', c.stdout.trim()])).code, 0);
    const info = await asUser(['info', '--format', '{{.DefaultNetwork}}']);
    assert.equal(info.stdout, 'pasta\n');
  });

  test("a server on the host's loopback is reached at host.containers.internal, as the user", async () => {
    let peer = '';
    const server = http.createServer((req, res) => {
      peer = req.socket.remoteAddress ?? '';
      res.end('from-host\n');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const r = await asUser(['run', '--rm', image, 'wget', '-qO-', `http://host.containers.internal:${port}/`]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'from-host\n');
      assert.equal(peer, '127.0.0.1', "pasta's sockets connect from the host's loopback");
    } finally {
      server.close();
    }
  });

  test('-p: published on the host by pasta, the client address kept, port/ps/inspect show it, stop closes it, start opens it again', async () => {
    const port = await freePort();
    const name = `rl-web-${process.pid}`;
    let r = await asUser(['run', '-d', '--name', name, '-p', `127.0.0.1:${port}:80`, image, ...HTTPD('rootless-web')]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await retry(() => get(port), 5000), 'rootless-web\n');
    // the client's own address reaches the server (pasta splices a loopback client's connection)
    await retry(async () => assert.match((await asUser(['logs', name])).stderr, /127\.0\.0\.1\]?:\d+: url:\//), 5000);
    r = await asUser(['port', name]);
    assert.equal(r.stdout, `80/tcp -> 127.0.0.1:${port}\n`);
    r = await asUser(['ps', '--filter', `name=${name}`, '--format', '{{.Ports}} {{.Networks}}']);
    assert.equal(r.stdout, `127.0.0.1:${port}->80/tcp pasta\n`);
    r = await asUser(['inspect', '--format', '{{json .NetworkSettings.Ports}}', name]);
    assert.deepEqual(JSON.parse(r.stdout), { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: String(port) }] });
    assert.equal(pastaOf(root).length, 1);

    r = await asUser(['run', '--rm', '-p', `127.0.0.1:${port}:80`, image, 'true']);
    assert.equal(r.code, 125);
    assert.match(r.stderr, new RegExp(`^Error: Bind for 127\\.0\\.0\\.1:${port} failed: port is already allocated\\n$`));

    assert.equal((await asUser(['stop', '-t', '1', name])).code, 0);
    assert.deepEqual(pastaOf(root), [], 'pasta ends with the container');
    await assert.rejects(get(port), 'the port is closed when the container stops');
    r = await asUser(['port', name]);
    assert.equal(r.stdout, '');
    assert.equal((await asUser(['start', name])).code, 0);
    assert.equal(await retry(() => get(port), 5000), 'rootless-web\n');
    assert.equal((await asUser(['rm', '-f', name])).code, 0);
    assert.deepEqual(pastaOf(root), []);
    await assert.rejects(get(port));
  });

  test("-p PORT:80 as the user: a client elsewhere (a network namespace of the test's own) reaches it on the host's address, its own address kept", async () => {
    const port = await freePort();
    const name = `rl-far-${process.pid}`;
    const far = farClient('198.51.100', 'rl');
    try {
      const r = await asUser(['run', '-d', '--name', name, '-p', `${port}:80`, image, ...HTTPD('far-web')]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(await retry(async () => far.get(`http://${far.host}:${port}/`), 5000), 'far-web\n');
      await retry(async () => assert.match((await asUser(['logs', name])).stderr, new RegExp(`${far.client.replaceAll('.', '\\.')}\\]?:\\d+: url:/`)), 5000);
      assert.equal((await asUser(['rm', '-f', name])).code, 0);
      assert.throws(() => far.get(`http://${far.host}:${port}/`), 'the port is closed with the container');
    } finally {
      await asUser(['rm', '-f', name]);
      far.close();
    }
  });

  test('kill -9 of the monitor takes pasta with it, and its port is free for the next container', async () => {
    const port = await freePort();
    let r = await asUser(['run', '-d', '-p', `${port}:80`, image, ...HTTPD('first')]);
    assert.equal(r.code, 0, r.stderr);
    const first = r.stdout.trim();
    assert.equal(await retry(() => get(port), 5000), 'first\n');
    const [pasta] = pastaOf(root);
    assert.ok(pasta);
    const monitor = Number(/^\d+\s+\(.*\)\s+\S\s+(\d+)/.exec(fs.readFileSync(`/proc/${pasta}/stat`, 'utf8'))![1]);
    process.kill(monitor, 'SIGKILL');
    await retry(async () => assert.deepEqual(pastaOf(root), []), 5000);
    r = await asUser(['run', '-d', '-p', `${port}:80`, image, ...HTTPD('second')]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await retry(() => get(port), 5000), 'second\n');
    assert.equal((await asUser(['rm', '-f', first, r.stdout.trim()])).code, 0);
  });

  test('--network none has only lo; pasta:<options>; the default bridge rootless; sctp is refused', async () => {
    let r = await asUser(['run', '--rm', '--network', 'none', image, 'sh', '-c', 'ls /sys/class/net']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'lo\n');
    r = await asUser(['run', '--rm', '--network', 'bridge', image, 'ip', '-o', '-4', 'addr', 'show', 'eth1']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /inet 10\.90\.\d+\.\d+\/16/, 'the default bridge, rootless: in the user\'s network namespace');
    r = await asUser(['run', '--rm', '--network', 'pasta:--mtu,1400', image, 'ip', '-o', 'link', 'show', 'eth0']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /mtu 1400/, 'pasta:<options> reach pasta');
    r = await asUser(['run', '--rm', '-p', '80/sctp', image, 'true']);
    assert.equal(r.code, 125);
    assert.match(r.stderr, /sctp: rootless networking \(pasta\) forwards tcp and udp only/);
  });

  test('slirp4netns: tap0 with slirp\'s addresses, the host\'s loopback at the gateway, -p through its API, options', { skip: !onPath('slirp4netns') && 'no slirp4netns (scripts/install-deps.sh installs it)' }, async () => {
    const server = http.createServer((_, res) => res.end('host-via-slirp\n'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const hostPort = (server.address() as net.AddressInfo).port;
    try {
      let r = await asUser(['run', '--rm', '--network', 'slirp4netns', image, 'sh', '-c', `ip -o -4 addr show tap0; ip route; cat /etc/resolv.conf; wget -qO- http://host.containers.internal:${hostPort}/`]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /tap0\s+inet 10\.0\.2\.100\/24/);
      assert.match(r.stdout, /^default via 10\.0\.2\.2 dev tap0/m);
      assert.match(r.stdout, /^nameserver 10\.0\.2\.3$/m);
      assert.match(r.stdout, /host-via-slirp\n$/);
      r = await asUser(['run', '--rm', '--network', 'slirp4netns:allow_host_loopback=false,mtu=1500,cidr=10.5.0.0/24', image, 'sh', '-c', `ip -o link show tap0; ip -o -4 addr show tap0; wget -T 2 -qO- http://10.5.0.2:${hostPort}/ || echo unreachable`]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /mtu 1500/);
      assert.match(r.stdout, /inet 10\.5\.0\.100\/24/);
      assert.match(r.stdout, /unreachable\n$/, 'allow_host_loopback=false keeps the host loopback out');
    } finally {
      server.close();
    }
    let r = await asUser(['run', '--rm', '--network', 'slirp4netns:port_handler=rootlesskit', image, 'true']);
    assert.equal(r.code, 125);
    assert.match(r.stderr, /^Error: slirp4netns option "port_handler=rootlesskit" is not supported/);

    // the rootless default from containers.conf; -p added through the API socket once slirp4netns runs
    const conf = path.join(runtime, 'containers.conf');
    fs.writeFileSync(conf, '[network]\ndefault_rootless_network_cmd = "slirp4netns"\n');
    const env = { TSDOCK_CONTAINERS_CONF: conf };
    assert.equal((await asUser(['info', '--format', '{{.DefaultNetwork}}'], env)).stdout, 'slirp4netns\n');
    const port = await freePort();
    const name = `rl-slirp-${process.pid}`;
    r = await asUser(['run', '-d', '--name', name, '-p', `127.0.0.1:${port}:80`, image, ...HTTPD('via-slirp')], env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await retry(() => get(port), 5000), 'via-slirp\n');
    assert.equal((await asUser(['inspect', '--format', '{{.HostConfig.NetworkMode}}', name])).stdout, 'slirp4netns\n');
    assert.equal((await asUser(['port', name])).stdout, `80/tcp -> 127.0.0.1:${port}\n`);
    assert.equal(slirpOf(runtime).length, 1);
    assert.equal((await asUser(['stop', '-t', '1', name])).code, 0);
    assert.deepEqual(slirpOf(runtime), [], 'slirp4netns ends with the container');
    await assert.rejects(get(port));
    assert.equal((await asUser(['start', name])).code, 0);
    assert.equal(await retry(() => get(port), 5000), 'via-slirp\n');
    assert.equal((await asUser(['rm', '-f', name])).code, 0);
    assert.deepEqual(slirpOf(runtime), []);
  });

  test('user networks, rootless: names and aliases between containers over a bridge in the user\'s namespace, pasta for the rest', async () => {
    const ok = async (args: string[]) => {
      const r = await asUser(args);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
      return r.stdout;
    };
    const holderFile = path.join(runtime, 'tsdock', 'net', 'netns.json');
    await ok(['network', 'create', '--subnet', '10.97.20.0/24', 'rl-net']);
    await ok(['run', '-d', '--name', 'rl-b', '--network', 'rl-net', '--network-alias', 'bee', '--ip', '10.97.20.50', image, ...HTTPD('from-rl-b')]);
    const holder = JSON.parse(fs.readFileSync(holderFile, 'utf8')) as { pid: number };
    const server = http.createServer((_, res) => res.end('host-ok\n'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const hostPort = (server.address() as net.AddressInfo).port;
    try {
      const out = await ok(['run', '--rm', '--network', 'rl-net', image, 'sh', '-c', `wget -qO- http://rl-b/index.html; wget -qO- http://bee/index.html; nslookup -type=a bee; ip -o -4 addr show eth1; ip route show default; wget -qO- http://host.containers.internal:${hostPort}/`]);
      assert.match(out, /^from-rl-b\nfrom-rl-b\n/);
      assert.match(out, /Address:\s+10\.97\.20\.50\n/);
      assert.match(out, /eth1\s+inet 10\.97\.20\.\d+\/24/);
      assert.match(out, /^default via \S+ dev eth0/m, 'pasta\'s eth0 carries the default route');
      assert.match(out, /host-ok\n$/);
    } finally {
      server.close();
    }
    const port = await freePort();
    await ok(['run', '-d', '--name', 'rl-p', '--network', 'rl-net', '-p', `127.0.0.1:${port}:80`, image, ...HTTPD('rl-published')]);
    assert.equal(await retry(() => get(port), 5000), 'rl-published\n');
    const info = JSON.parse(await ok(['network', 'inspect', 'rl-net'])) as Array<{ Containers: Record<string, { Name: string }> }>;
    assert.deepEqual(Object.values(info[0]!.Containers).map((c) => c.Name).sort(), ['rl-b', 'rl-p']);
    assert.equal((await ok(['inspect', '-f', '{{(index .NetworkSettings.Networks "rl-net").IPAddress}}', 'rl-b'])).trim(), '10.97.20.50');
    // connect and disconnect while it runs: an eth2 on the second network's bridge, and gone again
    await ok(['network', 'create', '--subnet', '10.97.21.0/24', 'rl-net2']);
    await ok(['network', 'connect', '--ip', '10.97.21.9', 'rl-net2', 'rl-p']);
    assert.match(await ok(['exec', 'rl-p', 'ip', '-o', '-4', 'addr', 'show', 'eth2']), /inet 10\.97\.21\.9\/24/);
    await ok(['network', 'disconnect', 'rl-net2', 'rl-p']);
    assert.notEqual((await asUser(['exec', 'rl-p', 'ip', 'link', 'show', 'eth2'])).code, 0);
    await ok(['network', 'rm', 'rl-net2']);
    // IPv6 rootless: a dual-stack network in the user's namespace, AAAA answers and IPv6 between containers
    await ok(['network', 'create', '--ipv6', '--subnet', '10.97.22.0/24', '--subnet', 'fd00:97:22::/64', 'rl-net6']);
    await ok(['run', '-d', '--name', 'rl-six', '--network', 'rl-net6', '--ip6', 'fd00:97:22::50', image, ...HTTPD('rl-six')]);
    const six = await ok(['run', '--rm', '--network', 'rl-net6', image, 'sh', '-c', 'nslookup -type=aaaa rl-six; wget -qO- http://[fd00:97:22::50]/; ip -6 -o addr show eth1 scope global']);
    assert.match(six, /Address:\s+fd00:97:22::50\n/);
    assert.match(six, /^rl-six$/m);
    assert.match(six, /eth1\s+inet6 fd00:97:22::\d+\/64/);
    await ok(['rm', '-f', 'rl-six']);
    await ok(['network', 'rm', 'rl-net6']);
    await ok(['rm', '-f', 'rl-b', 'rl-p']);
    assert.ok(!fs.existsSync(holderFile), 'the last container gone, the user\'s network namespace goes');
    // gone (or a zombie where the pid 1 of this machine does not reap it)
    await retry(async () => assert.ok(!fs.existsSync(`/proc/${holder.pid}/stat`) || /\) Z /.test(fs.readFileSync(`/proc/${holder.pid}/stat`, 'utf8'))), 3000);
    await ok(['network', 'rm', 'rl-net']);
  });
});
