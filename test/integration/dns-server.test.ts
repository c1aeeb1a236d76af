// The container's embedded DNS server (native/dns.c, docker's 127.0.0.11), run as `tsdock-exec --dns-test` for a
// network namespace of the test's own with a `sleep` in it as the "init": names of the hosts file are answered
// from it (A, AAAA, case, search domain, PTR, NODATA), rewrites of the file are picked up, anything else goes to
// fake upstreams on the host's loopback (ids matched, the next upstream after 2 s, SERVFAIL when none answers),
// over UDP and TCP; garbage does not kill it and it exits when the init does. Queries are sent by a small node
// client run inside the namespace (`ip netns exec`), so they reach 127.0.0.11 of that namespace only.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { repoDir } from './helpers.js';

const isRoot = process.getuid?.() === 0;
const hasIp = (() => {
  try {
    execFileSync('ip', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const exe = path.join(repoDir, 'native', 'build', 'tsdock-exec');
const ns = `tsdock-dnstest-${process.pid}`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const run = promisify(execFile);

interface Answer { name: string; type: number; ttl: number; data: string }
interface Reply { id: number; aa: boolean; rcode: number; answers: Answer[]; timeout?: boolean; ms: number }

// The client: argv[2] is a JSON request {name, type, tcp, id, garbage (hex packets sent first), fuzz (that many mutated
// copies of the query sent first)}; prints the reply with that id.
const client = String.raw`
const dgram = require('dgram'), net = require('net');
const req = JSON.parse(process.argv[2]);
const T = { A: 1, AAAA: 28, PTR: 12, MX: 15, ANY: 255 };
const labels = req.name.split('.').filter(Boolean).map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)]));
const q = Buffer.concat([Buffer.from([req.id >> 8, req.id & 255, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0]), ...labels, Buffer.from([0, 0, T[req.type], 0, 1])]);
const t0 = Date.now();
function name(m, o) {
  const parts = [];
  let end = -1;
  for (let hops = 0; hops < 200 && m[o] !== 0; ) {
    if ((m[o] & 0xc0) === 0xc0) { if (end < 0) end = o + 2; o = ((m[o] & 0x3f) << 8) | m[o + 1]; hops++; continue; }
    parts.push(m.subarray(o + 1, o + 1 + m[o]).toString()); o += 1 + m[o];
  }
  return [parts.join('.'), end < 0 ? o + 1 : end];
}
function parse(m) {
  const r = { id: m.readUInt16BE(0), aa: !!(m[2] & 4), rcode: m[3] & 15, answers: [], ms: Date.now() - t0 };
  let o = name(m, 12)[1] + 4;
  for (let i = 0; i < m.readUInt16BE(6); i++) {
    const [n, e] = name(m, o), type = m.readUInt16BE(e), len = m.readUInt16BE(e + 8), d = m.subarray(e + 10, e + 10 + len);
    const data = type === 1 ? [...d].join('.') : type === 28 ? d.toString('hex').match(/..../g).map((g) => parseInt(g, 16).toString(16)).join(':') : type === 12 ? name(m, e + 10)[0] : d.toString('hex');
    r.answers.push({ name: n, type, ttl: m.readUInt32BE(e + 4), data });
    o = e + 10 + len;
  }
  return r;
}
const done = (m) => { if (m.length >= 2 && m.readUInt16BE(0) === req.id) console.log(JSON.stringify(parse(m))), process.exit(0); };
setTimeout(() => { console.log(JSON.stringify({ timeout: true, ms: Date.now() - t0 })); process.exit(0); }, 9000);
if (req.tcp) {
  const s = net.connect(53, '127.0.0.11', () => { const l = Buffer.alloc(2); l.writeUInt16BE(q.length); s.write(Buffer.concat([l, q])); });
  let b = Buffer.alloc(0);
  s.on('data', (d) => { b = Buffer.concat([b, d]); if (b.length >= 2 && b.length >= 2 + b.readUInt16BE(0)) done(b.subarray(2, 2 + b.readUInt16BE(0))); });
} else {
  const s = dgram.createSocket('udp4');
  s.on('message', done);
  const bad = (req.garbage ?? []).map((g) => Buffer.from(g, 'hex'));
  for (let i = 0; i < (req.fuzz ?? 0); i++) { // the query with 1-4 random bytes changed, maybe cut short; another id
    const m = Buffer.from(q.subarray(0, Math.random() < 0.3 ? Math.floor(Math.random() * q.length) : q.length));
    for (let k = 1 + Math.floor(Math.random() * 4); k > 0; k--) m[Math.floor(Math.random() * m.length)] = Math.floor(Math.random() * 256);
    if (m.length >= 2) m.writeUInt16BE(req.id ^ 0x8000, 0);
    bad.push(m);
  }
  (async () => {
    for (const m of bad) await new Promise((r) => s.send(m, 53, '127.0.0.11', r));
    setTimeout(() => s.send(q, 53, '127.0.0.11'), bad.length ? 200 : 0);
  })();
}
`;

/** A fake upstream on 127.0.0.1: answers every query with one A record `addr`, except names matching `ignore`. */
function fakeUpstream(addr: string, ignore: RegExp): Promise<{ sock: dgram.Socket; port: number; asked: string[] }> {
  const sock = dgram.createSocket('udp4');
  const asked: string[] = [];
  sock.on('message', (m, rinfo) => {
    const parts: string[] = [];
    let o = 12;
    while (o < m.length && m[o] !== 0) {
      parts.push(m.subarray(o + 1, o + 1 + m[o]).toString());
      o += 1 + m[o];
    }
    const qname = parts.join('.').toLowerCase();
    asked.push(qname);
    if (ignore.test(qname)) return;
    const head = Buffer.from(m.subarray(0, o + 5));
    head[2] = 0x81, head[3] = 0x80, head.writeUInt16BE(1, 6), head.writeUInt32BE(0, 8);
    const rr = Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, ...addr.split('.').map(Number)]);
    sock.send(Buffer.concat([head, rr]), rinfo.port, rinfo.address);
  });
  return new Promise((resolve) => sock.bind(0, '127.0.0.1', () => resolve({ sock, port: sock.address().port, asked })));
}

describe('embedded DNS server (native/dns.c)', { skip: (!isRoot && 'needs root') || (!hasIp && 'needs iproute2 (ip)') }, () => {
  let dir = '';
  let hosts = '';
  let holder: ChildProcess | undefined;
  let server: ChildProcess | undefined;
  let serverExit: Promise<number | null> | undefined;
  let nsMade = false;
  const ups: dgram.Socket[] = [];
  let up1: Awaited<ReturnType<typeof fakeUpstream>>;
  let up2: Awaited<ReturnType<typeof fakeUpstream>>;
  let nextId = 0x1000;

  const query = async (name: string, type = 'A', opts: { tcp?: boolean; garbage?: string[]; fuzz?: number } = {}): Promise<Reply> => {
    const id = nextId++;
    const { stdout } = await run('ip', ['netns', 'exec', ns, process.execPath, path.join(dir, 'client.cjs'), JSON.stringify({ name, type, id, ...opts })]);
    const r = JSON.parse(stdout) as Reply;
    if (!r.timeout) assert.equal(r.id, id, 'the reply carries the query id');
    return r;
  };
  const data = (r: Reply) => r.answers.map((a) => a.data);
  const cleanup = () => {
    for (const p of [server, holder]) if (p && p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    if (nsMade) execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    nsMade = false;
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  };

  before(async () => {
    process.once('exit', cleanup);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdock-dnstest-'));
    fs.writeFileSync(path.join(dir, 'client.cjs'), client);
    hosts = path.join(dir, 'hosts');
    fs.writeFileSync(hosts, '# test hosts\n10.99.1.2 web web-alias\nfd00::2 web # v6 too\n');
    execFileSync('ip', ['netns', 'add', ns]);
    nsMade = true;
    execFileSync('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up']);
    holder = spawn('ip', ['netns', 'exec', ns, 'sleep', '1000'], { stdio: 'ignore' });
    // `ip netns exec` execs the command: the holder's pid is the sleep's once it sits in the namespace
    const t0 = Date.now();
    while (fs.readlinkSync(`/proc/${holder.pid}/ns/net`) === fs.readlinkSync('/proc/self/ns/net') || !fs.readFileSync(`/proc/${holder.pid}/cmdline`, 'utf8').startsWith('sleep')) {
      assert.ok(Date.now() - t0 < 5000, 'the holder entered the namespace');
      await sleep(20);
    }
    up1 = await fakeUpstream('192.0.2.7', /^(slow|dead)/);
    up2 = await fakeUpstream('192.0.2.8', /^dead/);
    ups.push(up1.sock, up2.sock);
    server = spawn(exe, ['--dns-test', '--pid', String(holder.pid), '--listen', '127.0.0.11:53', '--upstream', `127.0.0.1:${up1.port}`,
      '--upstream', `127.0.0.1:${up2.port}`, '--hosts', hosts, '--hosts', path.join(dir, 'missing'), '--search', 'test.dom'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const srv = server;
    serverExit = new Promise((resolve) => srv.on('exit', (code) => resolve(code)));
    let out = '';
    let err = '';
    srv.stderr!.on('data', (d) => (err += d));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the server did not get ready: ${err}`)), 5000);
      srv.stdout!.on('data', (d) => {
        out += d;
        if (out === 'ready\n') clearTimeout(timer), resolve();
      });
      srv.on('exit', (code) => reject(new Error(`the server exited ${code}: ${err}`)));
    });
  });
  after(() => {
    for (const s of ups) s.close();
    cleanup();
  });

  test('names of the hosts file: A of every alias, AAAA, any case, trailing dot, TTL 0, authoritative', async () => {
    const a = await query('web');
    assert.equal(a.rcode, 0);
    assert.equal(a.aa, true);
    assert.deepEqual(a.answers, [{ name: 'web', type: 1, ttl: 0, data: '10.99.1.2' }]);
    assert.deepEqual(data(await query('web-alias')), ['10.99.1.2']);
    assert.deepEqual((await query('web', 'AAAA')).answers, [{ name: 'web', type: 28, ttl: 0, data: 'fd00:0:0:0:0:0:0:2' }]);
    const upper = await query('WEB.');
    assert.deepEqual(upper.answers, [{ name: 'WEB', type: 1, ttl: 0, data: '10.99.1.2' }], 'the answer names the question as asked');
    assert.deepEqual(data(await query('web', 'ANY')), ['10.99.1.2', 'fd00:0:0:0:0:0:0:2']);
    assert.deepEqual(up1.asked, [], 'nothing went upstream');
  });

  test('the search domain, NODATA for a missing family or another type, PTR', async () => {
    assert.deepEqual(data(await query('web.test.dom')), ['10.99.1.2']);
    assert.deepEqual(data(await query('Web-Alias.TEST.dom')), ['10.99.1.2']);
    for (const [name, type] of [['web-alias', 'AAAA'], ['web', 'MX']]) {
      const r = await query(name, type);
      assert.equal(r.rcode, 0, `${type} ${name}`);
      assert.equal(r.aa, true);
      assert.deepEqual(r.answers, [], `${type} ${name}: NODATA`);
    }
    assert.deepEqual((await query('2.1.99.10.in-addr.arpa', 'PTR')).answers, [{ name: '2.1.99.10.in-addr.arpa', type: 12, ttl: 0, data: 'web' }]);
    const v6 = '2.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa';
    assert.deepEqual(data(await query(v6, 'PTR')), ['web']);
    assert.deepEqual(up1.asked, [], 'nothing went upstream');
    const bb = await run('ip', ['netns', 'exec', ns, 'busybox', 'nslookup', 'web', '127.0.0.11']).catch((e) => e);
    assert.match(bb.stdout, /Address:\s+10\.99\.1\.2/, bb.stderr);
    assert.match(bb.stdout, /Address:\s+fd00::2/, bb.stderr);
  });

  test('other names are forwarded upstream and the reply comes back with the client id', async () => {
    const r = await query('unknown.example');
    assert.equal(r.rcode, 0);
    assert.deepEqual(data(r), ['192.0.2.7']);
    assert.ok(up1.asked.includes('unknown.example'), 'the upstream was asked');
    const unknownPtr = await query('9.9.99.10.in-addr.arpa', 'PTR');
    assert.deepEqual(data(unknownPtr), ['192.0.2.7'], 'a PTR for an address not in the hosts file is forwarded');
  });

  test('no answer from the first upstream within 2 s: the next one; from none: SERVFAIL', async () => {
    const slow = await query('slow.example');
    assert.deepEqual(data(slow), ['192.0.2.8']);
    assert.ok(slow.ms >= 1500 && slow.ms < 4000, `answered after ${slow.ms} ms`);
    assert.ok(up1.asked.includes('slow.example') && up2.asked.includes('slow.example'));
    const dead = await query('dead.example');
    assert.equal(dead.timeout, undefined, 'answered');
    assert.equal(dead.rcode, 2, 'SERVFAIL');
    assert.ok(dead.ms >= 3500 && dead.ms < 6500, `SERVFAIL after ${dead.ms} ms`);
  });

  test('TCP: local answers and forwarded ones', async () => {
    assert.deepEqual(data(await query('web', 'A', { tcp: true })), ['10.99.1.2']);
    assert.deepEqual(data(await query('web', 'AAAA', { tcp: true })), ['fd00:0:0:0:0:0:0:2']);
    assert.deepEqual(data(await query('tcp.example', 'A', { tcp: true })), ['192.0.2.7']);
    assert.ok(up1.asked.includes('tcp.example'));
  });

  test('the hosts file is re-read when it changes: an entry added, one removed, a renamed-over file', async () => {
    fs.appendFileSync(hosts, '10.99.1.3 db\n');
    assert.deepEqual(data(await query('db')), ['10.99.1.3']);
    fs.writeFileSync(hosts, '10.99.1.2 web\n10.99.1.3 db\n');
    assert.deepEqual(data(await query('web-alias')), ['192.0.2.7'], 'web-alias is gone: forwarded');
    fs.writeFileSync(`${hosts}.tmp`, '10.99.1.2 web\n10.99.1.4 db\n10.99.1.5 db\n');
    fs.renameSync(`${hosts}.tmp`, hosts);
    assert.deepEqual(data(await query('db')), ['10.99.1.4', '10.99.1.5'], 'every address of the name');
  });

  test('malformed packets are dropped, the server keeps answering', async () => {
    const garbage = [
      '', '00', '1234', // shorter than a header
      '123401000001000000000000c00c00010001', // a pointer to itself
      '123401000001000000000000c00e00010001c00c', // a forward pointer
      '1234010000010000000000003f61', // a label past the end
      '12340100000100000000000003616263', // no terminating label
      '123481800001000000000000037765620000010001', // a response, not a query
      'ff'.repeat(600),
      '123401000001000000000000' + '3f' + '61'.repeat(63) + '3f' + '61'.repeat(63) + '3f' + '61'.repeat(63) + '3f' + '61'.repeat(63) + '0000010001', // name > 255
    ];
    assert.deepEqual(data(await query('web', 'A', { garbage })), ['10.99.1.2']);
    assert.deepEqual(data(await query('web', 'A', { fuzz: 3000 })), ['10.99.1.2'], 'after 3000 mutated copies of a query');
    assert.deepEqual(data(await query('2.1.99.10.in-addr.arpa', 'PTR', { fuzz: 3000 })), ['web']);
    assert.equal(server!.exitCode, null, 'the server runs');
  });

  test('the server exits when the init does', async () => {
    const t0 = Date.now();
    holder!.kill('SIGKILL');
    const code = await Promise.race([serverExit, sleep(2000).then(() => 'running')]);
    assert.equal(code, 0, `the server ended (${Date.now() - t0} ms)`);
  });
});
