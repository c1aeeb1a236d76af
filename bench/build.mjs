#!/usr/bin/env node
// Build benchmark: a 10-step Dockerfile (FROM the local registry's busybox; ENV, WORKDIR, LABEL, ARG, CMD; two
// COPYs; two RUNs doing small real work) built by tsdock and by `podman build` (where installed) in one run,
// alternating A B A B: cold (--no-cache, the base image already pulled) and fully cached (the same build again).
// Medians and ratios; the targets are cold <= 0.8x podman, cached <= 0.3x.
//   npm run build && node bench/build.mjs [--runs 5] [--image host:port/repo:tag]
// RUN gets the host network in both (tsdock's default; podman's --network=host), so neither pays for a bridge.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { arg, median, repo } from './lib.mjs';

const runs = Number(arg('--runs', '5'));
const image = arg('--image') ?? execFileSync('bash', [path.join(repo, 'scripts/local-registry.sh'), 'start'], { encoding: 'utf8' }).trim().split('\n').pop();
const work = fs.mkdtempSync(path.join('/var/tmp', 'tsdock-bench-build-'));
const ctx = path.join(work, 'context');
fs.mkdirSync(path.join(ctx, 'app', 'lib'), { recursive: true });
for (let i = 0; i < 40; i++) fs.writeFileSync(path.join(ctx, 'app', 'lib', `mod${i}.sh`), `#!/bin/sh\n# module ${i}\necho ${'x'.repeat(200 + i)}\n`);
fs.writeFileSync(path.join(ctx, 'app', 'main.sh'), '#!/bin/sh\nfor m in /app/lib/*.sh; do sh "$m"; done\n');
// 2 MiB of incompressible-ish data: the second COPY and the RUN that compresses it
const big = Buffer.alloc(2 << 20);
for (let i = 0, x = 12345; i < big.length; i++) big[i] = (x = (x * 1103515245 + 12345) >>> 0) >>> 24;
fs.writeFileSync(path.join(ctx, 'data.bin'), big);
fs.writeFileSync(path.join(ctx, 'Dockerfile'), [
  `FROM ${image}`,
  'ENV APP_HOME=/app LANG=C.UTF-8',
  'WORKDIR /app',
  'LABEL org.opencontainers.image.title=bench org.opencontainers.image.version=1',
  'COPY app/ /app/',
  'RUN sh /app/main.sh > /app/out.txt && md5sum /app/lib/*.sh > /app/sums && wc -l /app/out.txt',
  'ARG LEVEL=6',
  'COPY data.bin /data/data.bin',
  'RUN gzip -$LEVEL -c /data/data.bin > /data/data.gz && sha256sum /data/data.gz > /data/data.sum && ls -l /data',
  'CMD ["sh", "/app/main.sh"]',
  '',
].join('\n'));

const tsdockRoot = path.join(work, 'tsdock');
// bin/tsdock as a program, as a user runs it (its sh line and launcher)
const tsdockBin = path.join(repo, 'bin/tsdock');
const tsdock = ['--root', tsdockRoot];
const podmanConf = path.join(work, 'containers.conf');
const hard = (name) => fs.readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith(name)).slice(name.length).trim().split(/\s+/)[1];
// podman asks for more than this machine's hard limits allow (no CAP_SYS_RESOURCE): pin them
fs.writeFileSync(podmanConf, `[containers]\ndefault_ulimits = ["nofile=${hard('Max open files')}:${hard('Max open files')}", "nproc=${hard('Max processes')}:${hard('Max processes')}"]\n[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n`);
const podman = ['--root', path.join(work, 'podman'), '--runroot', path.join(work, 'podman-run')];
const penv = { ...process.env, CONTAINERS_CONF: podmanConf };
const hasPodman = spawnSync('podman', ['--version']).status === 0;

/** wall milliseconds of one command that must succeed */
function ms(cmd, args, env = process.env) {
  const t = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return Number(process.hrtime.bigint() - t) / 1e6;
}
const builds = {
  tsdock: (cold) => ms(tsdockBin, [...tsdock, 'build', ...(cold ? ['--no-cache'] : []), '-t', 'bench:build', ctx]),
};
execFileSync(tsdockBin, [...tsdock, 'pull', '-q', image], { stdio: 'ignore' });
if (hasPodman) {
  // crun refuses a hybrid host whose cgroup2 still holds a controller (hugetlb here): bind it to v1 like the others
  if (fs.existsSync('/sys/fs/cgroup/unified/cgroup.controllers') && fs.readFileSync('/sys/fs/cgroup/unified/cgroup.controllers', 'utf8').includes('hugetlb')) {
    fs.mkdirSync('/sys/fs/cgroup/hugetlb', { recursive: true });
    spawnSync('mount', ['-t', 'cgroup', '-o', 'hugetlb', 'cgroup', '/sys/fs/cgroup/hugetlb']);
  }
  execFileSync('podman', [...podman, 'pull', '-q', '--tls-verify=false', image], { stdio: 'ignore', env: penv });
  const limits = ['--ulimit', `nofile=${hard('Max open files')}:${hard('Max open files')}`, '--ulimit', 'nproc=1000:1000'];
  builds.podman = (cold) => ms('podman', [...podman, 'build', '-q', '--pull=never', '--network=host', ...limits, ...(cold ? ['--no-cache'] : []), '-t', 'bench:build', ctx], penv);
}

const results = {};
try {
  // each tool's first build warms its page cache and code caches; not counted
  for (const fn of Object.values(builds)) fn(true);
  for (let n = 0; n < runs; n++) {
    for (const [name, fn] of Object.entries(builds)) (results[`${name} cold`] ??= []).push(fn(true));
    for (const [name, fn] of Object.entries(builds)) (results[`${name} cached`] ??= []).push(fn(false));
  }
} finally {
  if (hasPodman) spawnSync('podman', [...podman, 'system', 'reset', '-f'], { stdio: 'ignore', env: penv });
  fs.rmSync(work, { recursive: true, force: true });
}
console.log(`build of a 10-step Dockerfile (FROM ${image}), ${runs} runs each (median ms)`);
const m = Object.fromEntries(Object.entries(results).map(([k, v]) => [k, median(v)]));
for (const [name, v] of Object.entries(m)) console.log(`${name.padEnd(16)} ${v.toFixed(1).padStart(8)} ms`);
if (m['podman cold']) {
  console.log(`cold:   tsdock/podman = ${(m['tsdock cold'] / m['podman cold']).toFixed(3)} (target <= 0.8)`);
  console.log(`cached: tsdock/podman = ${(m['tsdock cached'] / m['podman cached']).toFixed(3)} (target <= 0.3)`);
}
