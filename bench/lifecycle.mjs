#!/usr/bin/env node
// Lifecycle benchmark: `run -d` and `exec` latency against podman (where installed), and the memory the
// monitors of 50 detached containers cost (target: <= 250 MB in total; conmon ~1-2 MB each).
//   npm run build && node bench/lifecycle.mjs [--runs 10]
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const i = process.argv.indexOf('--runs');
const runs = i > 0 ? Number(process.argv[i + 1]) : 10;
const image = execFileSync('bash', [path.join(repo, 'scripts/local-registry.sh'), 'start'], { encoding: 'utf8' }).trim().split('\n').pop();
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdock-bench-lc-'));
const root = path.join(work, 'tsdock');
const tsdock = (...args) => {
  const r = spawnSync(path.join(repo, 'bin/tsdock'), ['--root', root, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tsdock ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
};
const hard = (name) => fs.readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith(name)).slice(name.length).trim().split(/\s+/)[1];
const podmanBase = ['--root', path.join(work, 'podman'), '--runroot', path.join(work, 'podman-run'), '--cgroup-manager', 'cgroupfs', '--events-backend', 'file'];
const podmanLimits = ['--ulimit', `nofile=${hard('Max open files')}:${hard('Max open files')}`, '--ulimit', 'nproc=1000:1000', '--network', 'none'];
const podman = (...args) => {
  const r = spawnSync('podman', [...podmanBase, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`podman ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
};
const hasPodman = spawnSync('podman', ['--version']).status === 0;
const time = (fn) => {
  const t = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const rss = (pid) => Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);

try {
  tsdock('pull', '-q', image);
  if (hasPodman) podman('pull', '-q', '--tls-verify=false', image);
  const res = { 'tsdock run -d': [], 'tsdock exec': [] };
  if (hasPodman) Object.assign(res, { 'podman run -d': [], 'podman exec': [] });
  const target = tsdock('run', '-d', image, 'sleep', '1000');
  const ptarget = hasPodman ? podman('run', '-d', ...podmanLimits, image, 'sleep', '1000') : '';
  for (let n = 0; n < runs; n++) {
    let id;
    res['tsdock run -d'].push(time(() => (id = tsdock('run', '-d', image, 'sleep', '1000'))));
    tsdock('rm', '-f', id);
    res['tsdock exec'].push(time(() => tsdock('exec', target, 'true')));
    if (hasPodman) {
      let pid;
      res['podman run -d'].push(time(() => (pid = podman('run', '-d', ...podmanLimits, image, 'sleep', '1000'))));
      podman('rm', '-f', '-t', '0', pid);
      res['podman exec'].push(time(() => podman('exec', ptarget, 'true')));
    }
  }
  for (const [k, v] of Object.entries(res)) console.log(`${k.padEnd(16)} ${median(v).toFixed(1).padStart(7)} ms`);
  if (hasPodman) {
    console.log(`run -d: tsdock/podman = ${(median(res['tsdock run -d']) / median(res['podman run -d'])).toFixed(3)}`);
    console.log(`exec:   tsdock/podman = ${(median(res['tsdock exec']) / median(res['podman exec'])).toFixed(3)}`);
  }
  // 50 detached containers: the monitors' memory
  const ids = Array.from({ length: 50 }, () => tsdock('run', '-d', image, 'sleep', '1000'));
  const monitors = ids.map((id) => JSON.parse(fs.readFileSync(path.join(root, 'containers', id, 'state.json'), 'utf8')).MonitorPid);
  const total = monitors.reduce((a, p) => a + rss(p), 0);
  console.log(`50 monitors: ${(total / 1024).toFixed(1)} MB RSS in total (${(total / 50).toFixed(0)} kB each; target <= 250 MB)`);
  const t0 = Date.now();
  tsdock('ps', '-a');
  console.log(`ps -a with ${ids.length + 1} containers: ${Date.now() - t0} ms`);
  tsdock('rm', '-f', target, ...ids);
} finally {
  if (hasPodman) spawnSync('podman', [...podmanBase, 'rm', '-af', '-t', '0'], { stdio: 'ignore' });
  if (hasPodman) spawnSync('podman', [...podmanBase, 'system', 'reset', '-f'], { stdio: 'ignore' });
  spawnSync('rm', ['-rf', work]);
}
