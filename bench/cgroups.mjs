#!/usr/bin/env node
// Cgroup operations benchmark: `run --rm --memory --cpus --pids-limit` (creating a limited cgroup), `pause` +
// `unpause`, `update --memory`, `stats --no-stream` (tsdock samples CPU over 0.5 s) against podman where installed.
//   npm run build && node bench/cgroups.mjs [--runs 10]
// Set TSDOCK_CGROUP_V2_MOUNT=/sys/fs/cgroup/unified on a hybrid host to time tsdock's v2 path (no limits there).
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const i = process.argv.indexOf('--runs');
const runs = i > 0 ? Number(process.argv[i + 1]) : 10;
const image = execFileSync('bash', [path.join(repo, 'scripts/local-registry.sh'), 'start'], { encoding: 'utf8' }).trim().split('\n').pop();
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdock-bench-cg-'));
const v2 = Boolean(process.env.TSDOCK_CGROUP_V2_MOUNT);
const limits = v2 ? [] : ['--memory', '64m', '--cpus', '1', '--pids-limit', '100'];
const run = (cmd, args) => {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
};
const tsdock = (...args) => run(path.join(repo, 'bin/tsdock'), ['--root', path.join(work, 'tsdock'), ...args]);
const hard = (name) => fs.readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith(name)).slice(name.length).trim().split(/\s+/)[1];
const podmanBase = ['--root', path.join(work, 'podman'), '--runroot', path.join(work, 'podman-run'), '--cgroup-manager', 'cgroupfs', '--events-backend', 'file'];
const podmanRun = ['--ulimit', `nofile=${hard('Max open files')}:${hard('Max open files')}`, '--ulimit', 'nproc=1000:1000', '--network', 'none'];
const podman = (...args) => run('podman', [...podmanBase, ...args]);
const hasPodman = !v2 && spawnSync('podman', ['--version']).status === 0;
const time = (fn) => {
  const t = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t) / 1e6;
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

try {
  tsdock('pull', '-q', image);
  const engines = [['tsdock', tsdock, []]];
  if (hasPodman) {
    podman('pull', '-q', '--tls-verify=false', image);
    engines.push(['podman', podman, podmanRun]);
  }
  const res = {};
  for (const [name, e, extra] of engines) {
    const r = (res[name] = { 'run --rm (limits)': [], 'pause+unpause': [], 'update --memory': [], 'stats --no-stream': [] });
    const id = e('run', '-d', ...extra, ...limits, image, 'sleep', '1000');
    for (let n = 0; n < runs; n++) {
      r['run --rm (limits)'].push(time(() => e('run', '--rm', ...extra, ...limits, image, 'true')));
      r['pause+unpause'].push(time(() => (e('pause', id), e('unpause', id))));
      if (!v2) r['update --memory'].push(time(() => e('update', '--memory', `${64 + (n % 2) * 16}m`, id)));
      if (n < 3) r['stats --no-stream'].push(time(() => e('stats', '--no-stream', id)));
    }
    e('rm', '-f', ...(name === 'podman' ? ['-t', '0'] : []), id);
  }
  for (const op of Object.keys(res.tsdock)) {
    if (!res.tsdock[op].length) continue;
    const t = median(res.tsdock[op]);
    const p = res.podman ? median(res.podman[op]) : undefined;
    console.log(`${op.padEnd(20)} tsdock ${t.toFixed(1).padStart(7)} ms${p !== undefined ? `   podman ${p.toFixed(1).padStart(7)} ms   ratio ${(t / p).toFixed(2)}` : ''}`);
  }
} finally {
  if (hasPodman) spawnSync('podman', [...podmanBase, 'rm', '-af', '-t', '0']);
  fs.rmSync(work, { recursive: true, force: true });
}
