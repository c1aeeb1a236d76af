#!/usr/bin/env node
// Networking benchmark, tsdock against podman (where installed) in one run, rootful:
//  1. start-up: `run --rm IMG true` on the default bridge, on a user network, and with --network none (medians);
//  2. a published port: the host fetches a 256 MiB file from the container's httpd through `-p` (MB/s, best of N);
//  3. container → host TCP: the container sends 1 GiB with busybox nc to a sink on the host, reached at
//     host.containers.internal: over the bridge (rootful), and over the rootless path as the unprivileged test user
//     (tsdock: pasta; podman: its rootless default), MB/s best of 3;
//  4. the same paths with iperf3 (where the host has it: an image from the host's package, bench/make-iperf3-image.sh,
//     against a one-off `iperf3 -s` on the host), 5 s each, best of 3.
//   npm run build && node bench/network.mjs [--runs 15]
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const i = process.argv.indexOf('--runs');
const runs = i > 0 ? Number(process.argv[i + 1]) : 15;
const image = execFileSync('bash', [path.join(repo, 'scripts/local-registry.sh'), 'start'], { encoding: 'utf8' }).trim().split('\n').pop();
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdock-bench-net-'));
fs.chmodSync(work, 0o755);
// bin/tsdock as a program, as a user runs it (its sh line and launcher), not `node bin/tsdock`
const tsdockBin = path.join(repo, 'bin/tsdock');
const tsdock = ['--root', path.join(work, 'tsdock')];
const podmanConf = path.join(work, 'containers.conf');
// crun (podman's first choice) refuses hybrid cgroups ("drop all controllers from cgroupv2"): runc where installed
const runc = spawnSync('runc', ['--version']).status === 0;
const hard = (name) => fs.readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith(name)).slice(name.length).trim().split(/\s+/)[1];
fs.writeFileSync(podmanConf, `[containers]\ndefault_ulimits = ["nofile=${hard('Max open files')}:${hard('Max open files')}", "nproc=${hard('Max processes')}:${hard('Max processes')}"]\n[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n${runc ? 'runtime = "runc"\n' : ''}`);
const penv = { env: { ...process.env, CONTAINERS_CONF: podmanConf } };
const podman = ['--root', path.join(work, 'podman'), '--runroot', path.join(work, 'podman-run')];
const limits = ['--ulimit', `nofile=${hard('Max open files')}:${hard('Max open files')}`, '--ulimit', 'nproc=1000:1000'];
const hasPodman = spawnSync('podman', ['--version']).status === 0;

const must = (cmd, args, opts = {}) => {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.toString();
};
const ms = (cmd, args, opts) => {
  const t = process.hrtime.bigint();
  must(cmd, args, opts);
  return Number(process.hrtime.bigint() - t) / 1e6;
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const freePort = () => new Promise((r) => { const s = net.createServer().listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => r(p)); }); });
const T = (args) => ms(tsdockBin, [...tsdock, ...args]);
const P = (args) => ms('podman', [...podman, ...args], penv);
const net_ = `bench-net-${process.pid}`;

must(tsdockBin, [...tsdock, 'pull', '-q', image]);
must(tsdockBin, [...tsdock, 'network', 'create', net_]);
const start = {
  'tsdock bridge': () => T(['run', '--rm', image, 'true']),
  'tsdock user-net': () => T(['run', '--rm', '--network', net_, image, 'true']),
  'tsdock none': () => T(['run', '--rm', '--network', 'none', image, 'true']),
};
if (hasPodman) {
  must('podman', [...podman, 'pull', '-q', '--tls-verify=false', image], penv);
  must('podman', [...podman, 'network', 'create', net_], penv);
  start['podman bridge'] = () => P(['run', '--rm', ...limits, image, 'true']);
  start['podman user-net'] = () => P(['run', '--rm', ...limits, '--network', net_, image, 'true']);
  start['podman none'] = () => P(['run', '--rm', ...limits, '--network', 'none', image, 'true']);
}
const SERVE = ['sh', '-c', 'mkdir -p /w && dd if=/dev/zero of=/w/f bs=1M count=256 2>/dev/null && exec httpd -f -p 80 -h /w'];
async function throughput(engine) {
  const port = await freePort();
  const name = `bench-srv-${process.pid}`;
  const run = (args) => (engine === 'tsdock' ? must(tsdockBin, [...tsdock, ...args]) : must('podman', [...podman, ...args], penv));
  run(['run', '-d', '--name', name, ...(engine === 'podman' ? limits : []), '-p', `127.0.0.1:${port}:80`, image, ...SERVE]);
  try {
    const url = `http://127.0.0.1:${port}/f`;
    for (let n = 0; n < 100 && spawnSync('curl', ['-sf', '-o', '/dev/null', '-r', '0-0', url]).status !== 0; n++) await new Promise((r) => setTimeout(r, 100));
    let best = 0;
    for (let n = 0; n < 5; n++) best = Math.max(best, Number(must('curl', ['-sf', '-o', '/dev/null', '-w', '%{speed_download}', url])) / 1e6);
    return best;
  } finally {
    run(['rm', '-f', name]);
  }
}
const EGRESS_BYTES = 1 << 30;
/** a TCP sink on every host address: MB/s of the first connection that sends EGRESS_BYTES (closed when they are in) */
function sink() {
  return new Promise((resolve) => {
    const done = [];
    const server = net.createServer((sock) => {
      let got = 0;
      let t0;
      sock.on('data', (d) => {
        t0 ??= process.hrtime.bigint();
        got += d.length;
        if (got >= EGRESS_BYTES) {
          const mb = got / 1e6 / (Number(process.hrtime.bigint() - t0) / 1e9);
          sock.destroy();
          done.shift()?.(mb);
        }
      });
      sock.on('error', () => {});
    });
    server.listen(0, '0.0.0.0', () => resolve({ port: server.address().port, next: () => new Promise((r) => done.push(r)), drop: () => done.shift(), close: () => server.close() }));
  });
}
const USER = 'tsdock-test';
const userUid = (() => { try { return Number(execFileSync('id', ['-u', USER], { encoding: 'utf8' })); } catch { return undefined; } })();
let userWork;
function asUser(engine) {
  if (!userWork) {
    userWork = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdock-bench-net-user-'));
    fs.chmodSync(userWork, 0o755);
    for (const d of ['xdg', 'tsdock', 'podman', 'podman-run']) fs.mkdirSync(path.join(userWork, d), { mode: 0o700 });
    for (const d of ['', 'xdg', 'tsdock', 'podman', 'podman-run']) fs.chownSync(path.join(userWork, d), userUid, userUid);
  }
  // podman rootless: no ulimits above the user's own hard limits (the rootful conf raises them), runc as rootful
  const conf = path.join(userWork, 'containers.conf');
  if (!fs.existsSync(conf)) fs.writeFileSync(conf, `[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n${runc ? 'runtime = "runc"\n' : ''}`, { mode: 0o644 });
  const env = ['env', `HOME=/home/${USER}`, `XDG_RUNTIME_DIR=${path.join(userWork, 'xdg')}`, 'NO_COLOR=1', `CONTAINERS_CONF=${conf}`];
  return engine === 'tsdock'
    ? ['runuser', ['-u', USER, '--', ...env, tsdockBin, '--root', path.join(userWork, 'tsdock')]]
    : ['runuser', ['-u', USER, '--', ...env, 'podman', '--root', path.join(userWork, 'podman'), '--runroot', path.join(userWork, 'podman-run')]];
}
async function egress(engine, rootless) {
  const [cmd, pre] = rootless ? asUser(engine) : engine === 'tsdock' ? [tsdockBin, tsdock] : ['podman', podman];
  const envOf = engine === 'podman' && !rootless ? penv : {};
  const run = (args) => must(cmd, [...pre, ...args], envOf);
  if (rootless) run(['pull', '-q', ...(engine === 'podman' ? ['--tls-verify=false'] : []), image]);
  const s = await sink();
  try {
    let best = 0;
    // a transfer cut short (Debian 12's pasta, 2023-03, resets some bulk connections on its path to the host's
    // loopback) is counted and tried again, up to 6 tries for 3 samples
    let resets = 0;
    for (let n = 0, tries = 0; n < 3 && tries < 6; tries++) {
      const mb = s.next();
      // not spawnSync: the sink in this process must read while the container sends
      const args = [...pre, 'run', '--rm', ...(engine === 'podman' && !rootless ? limits : []), image, 'sh', '-c', `dd if=/dev/zero bs=1M count=${EGRESS_BYTES >> 20} 2>/dev/null | nc host.containers.internal ${s.port} || true`];
      const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], ...envOf });
      let err = '';
      child.stderr.on('data', (d) => (err += d));
      const exited = new Promise((r) => child.on('close', r));
      const first = await Promise.race([mb, exited.then((code) => ({ code }))]);
      await exited;
      if (typeof first !== 'number') {
        if (!/reset by peer/.test(err)) throw new Error(`${cmd} ${args.join(' ')}: exit ${first.code}: ${err}`);
        s.drop();
        resets++;
        continue;
      }
      best = Math.max(best, first);
      n++;
    }
    if (resets) egressResets[`${engine}${rootless ? ' rootless' : ''}`] = resets;
    return best;
  } finally {
    s.close();
  }
}
const hasIperf = spawnSync('iperf3', ['--version']).status === 0;
const iperfImage = hasIperf ? execFileSync('bash', [path.join(repo, 'bench/make-iperf3-image.sh'), image.split('/')[0]], { encoding: 'utf8' }).trim().split('\n').pop() : undefined;
/** container → host with iperf3: the container is the client, a one-off server on every host address; MB/s */
async function iperfEgress(engine, rootless, network) {
  const [cmd, pre] = rootless ? asUser(engine) : engine === 'tsdock' ? [tsdockBin, tsdock] : ['podman', podman];
  const envOf = engine === 'podman' && !rootless ? penv : {};
  must(cmd, [...pre, 'pull', '-q', ...(engine === 'podman' ? ['--tls-verify=false'] : []), iperfImage], envOf);
  let best = 0;
  for (let n = 0; n < 3; n++) {
    const port = await freePort();
    const server = spawn('iperf3', ['-s', '-1', '-p', String(port)], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 300));
    try {
      const out = must(cmd, [...pre, 'run', '--rm', ...(engine === 'podman' && !rootless ? limits : []), ...(network ? ['--network', network] : []), iperfImage, '-c', 'host.containers.internal', '-p', String(port), '-t', '5', '-J'], envOf);
      best = Math.max(best, JSON.parse(out).end.sum_received.bits_per_second / 8e6);
    } finally {
      server.kill();
    }
  }
  return best;
}
const results = {};
const mbps = {};
const egressMbps = {};
const egressResets = {};
const iperfMbps = {};
try {
  for (let n = 0; n < runs; n++) for (const [k, fn] of Object.entries(start)) (results[k] ??= []).push(fn());
  mbps.tsdock = await throughput('tsdock');
  if (hasPodman) mbps.podman = await throughput('podman');
  egressMbps['tsdock bridge'] = await egress('tsdock', false);
  if (hasPodman) egressMbps['podman bridge'] = await egress('podman', false);
  if (userUid !== undefined) {
    egressMbps['tsdock rootless'] = await egress('tsdock', true);
    if (hasPodman) egressMbps['podman rootless'] = await egress('podman', true);
  }
  if (iperfImage) {
    for (const rootless of [false, ...(userUid !== undefined ? [true] : [])]) {
      for (const engine of ['tsdock', ...(hasPodman ? ['podman'] : [])]) iperfMbps[`${engine} ${rootless ? 'rootless' : 'bridge'}`] = await iperfEgress(engine, rootless);
    }
    // podman 4's rootless default is slirp4netns: tsdock's slirp4netns path beside it
    if (userUid !== undefined && spawnSync('slirp4netns', ['--version']).status === 0) iperfMbps['tsdock rootless-slirp4netns'] = await iperfEgress('tsdock', true, 'slirp4netns');
  }
} finally {
  if (userWork) {
    for (const engine of ['tsdock', ...(hasPodman ? ['podman'] : [])]) {
      const [cmd, pre] = asUser(engine);
      if (engine === 'podman') spawnSync(cmd, [...pre, 'system', 'reset', '-f'], { stdio: 'ignore' });
      const ids = spawnSync(cmd, [...pre, 'ps', '-aq'], { encoding: 'utf8' }).stdout?.trim().split('\n').filter(Boolean) ?? [];
      if (engine === 'tsdock' && ids.length) spawnSync(cmd, [...pre, 'rm', '-f', ...ids], { stdio: 'ignore' });
    }
    spawnSync('pkill', ['-u', USER], { stdio: 'ignore' });
    spawnSync('rm', ['-rf', userWork]);
  }
  spawnSync(tsdockBin, [...tsdock, 'network', 'rm', net_], { stdio: 'ignore' });
  if (hasPodman) spawnSync('podman', [...podman, 'system', 'reset', '-f'], { stdio: 'ignore', ...penv });
  spawnSync('rm', ['-rf', work]);
}
console.log(`run --rm ${image} true, ${runs} runs each (median ms)`);
const m = Object.fromEntries(Object.entries(results).map(([k, v]) => [k, median(v)]));
for (const [k, v] of Object.entries(m)) console.log(`${k.padEnd(18)} ${v.toFixed(1).padStart(7)} ms`);
for (const mode of ['bridge', 'user-net', 'none']) if (m[`podman ${mode}`]) console.log(`${mode.padEnd(9)} tsdock/podman = ${(m[`tsdock ${mode}`] / m[`podman ${mode}`]).toFixed(3)}`);
console.log(`tsdock bridge/none = ${(m['tsdock bridge'] / m['tsdock none']).toFixed(3)}`);
console.log(`-p 127.0.0.1: 256 MiB over http, best of 5: tsdock ${mbps.tsdock.toFixed(0)} MB/s${mbps.podman ? `, podman ${mbps.podman.toFixed(0)} MB/s, tsdock/podman = ${(mbps.tsdock / mbps.podman).toFixed(2)}` : ''}`);
for (const path_ of ['bridge', 'rootless']) {
  const t = egressMbps[`tsdock ${path_}`];
  const p = egressMbps[`podman ${path_}`];
  if (t !== undefined) console.log(`container -> host TCP, ${path_}, 1 GiB, best of 3: tsdock ${t.toFixed(0)} MB/s${p ? `, podman ${p.toFixed(0)} MB/s, tsdock/podman = ${(t / p).toFixed(2)}` : ''}`);
}
for (const path_ of ['bridge', 'rootless', 'rootless-slirp4netns']) {
  const t = iperfMbps[`tsdock ${path_}`];
  const p = iperfMbps[`podman ${path_.replace('-slirp4netns', '')}`];
  if (t !== undefined) console.log(`container -> host TCP, ${path_}, iperf3 5 s, best of 3: tsdock ${t.toFixed(0)} MB/s${p ? `, podman ${p.toFixed(0)} MB/s, tsdock/podman = ${(t / p).toFixed(2)}` : ''}`);
}
for (const [k, n] of Object.entries(egressResets)) console.log(`container -> host TCP, ${k}: ${n} transfer(s) reset before the end, tried again`);
if (!hasIperf) console.log('iperf3: not on this host (apt-get install iperf3) — the iperf3 rows are left out');
