#!/usr/bin/env node
// Start-up benchmark: `tsdock run --rm IMG true` vs `podman run --rm IMG true` (where installed) vs the
// `unshare` + chroot floor, in one run, as medians and ratios; rootful, and rootless as the tsdock-test user.
//   npm run build && node bench/run.mjs [--runs 20]
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const i = process.argv.indexOf('--runs');
const runs = i > 0 ? Number(process.argv[i + 1]) : 20;
const image = execFileSync('bash', [path.join(repo, 'scripts/local-registry.sh'), 'start'], { encoding: 'utf8' }).trim().split('\n').pop();
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdock-bench-run-'));
fs.chmodSync(work, 0o755);
const tsdock = path.join(repo, 'bin/tsdock');
const root = path.join(work, 'tsdock');
const podmanConf = path.join(work, 'containers.conf');
const hard = (name) => fs.readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith(name)).slice(name.length).trim().split(/\s+/)[1];
// podman asks for more than this machine's hard limits allow (no CAP_SYS_RESOURCE): pin them
fs.writeFileSync(podmanConf, `[containers]\ndefault_ulimits = ["nofile=${hard('Max open files')}:${hard('Max open files')}", "nproc=${hard('Max processes')}:${hard('Max processes')}"]\n[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n`);
const podmanArgs = ['--root', path.join(work, 'podman'), '--runroot', path.join(work, 'podman-run')];
const hasPodman = spawnSync('podman', ['--version']).status === 0;

const must = (cmd, args, opts = {}) => {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.toString();
};
function time(cmd, args, opts = {}) {
  const t = process.hrtime.bigint();
  must(cmd, args, opts);
  return Number(process.hrtime.bigint() - t) / 1e6;
}
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

must(tsdock, ['--root', root, 'pull', '-q', image]);
const rootfs = JSON.parse(must(tsdock, ['--root', root, 'inspect', '--format', '{{json .GraphDriver.Data}}', image])).UpperDir;
const cases = {
  floor: () => time('unshare', ['--pid', '--fork', '--mount', '--uts', '--ipc', 'chroot', rootfs, '/bin/true']),
  tsdock: () => time(tsdock, ['--root', root, 'run', '--rm', image, 'true']),
};
if (hasPodman) {
  // crun refuses a hybrid host whose cgroup2 still holds a controller (hugetlb here): bind it to v1 like the others
  if (fs.existsSync('/sys/fs/cgroup/unified/cgroup.controllers') && fs.readFileSync('/sys/fs/cgroup/unified/cgroup.controllers', 'utf8').includes('hugetlb')) {
    fs.mkdirSync('/sys/fs/cgroup/hugetlb', { recursive: true });
    spawnSync('mount', ['-t', 'cgroup', '-o', 'hugetlb', 'cgroup', '/sys/fs/cgroup/hugetlb']);
  }
  const penv = { env: { ...process.env, CONTAINERS_CONF: podmanConf } };
  const limits = ['--ulimit', `nofile=${hard('Max open files')}:${hard('Max open files')}`, '--ulimit', 'nproc=1000:1000'];
  must('podman', [...podmanArgs, 'pull', '-q', '--tls-verify=false', image], penv);
  // podman's default network (a bridge through netavark) and --network none, which is what tsdock does today
  cases.podman = () => time('podman', [...podmanArgs, 'run', '--rm', ...limits, image, 'true'], penv);
  cases['podman-net-none'] = () => time('podman', [...podmanArgs, 'run', '--rm', '--network', 'none', ...limits, image, 'true'], penv);
}
// rootless: the same commands as the unprivileged tsdock-test user (created by scripts/install-deps.sh)
const user = spawnSync('id', ['-u', 'tsdock-test']).status === 0 ? 'tsdock-test' : undefined;
if (user) {
  const rlRoot = path.join(work, 'rootless');
  fs.mkdirSync(rlRoot);
  execFileSync('chown', [user, rlRoot]);
  // its own runtime dir: the user namespace's pause process is the bench's, stopped at the end
  const runtime = path.join(work, 'xdg');
  fs.mkdirSync(runtime);
  execFileSync('chown', [user, runtime]);
  const asUser = (args) => ['-u', user, '--', 'env', `HOME=/home/${user}`, `XDG_RUNTIME_DIR=${runtime}`, ...args];
  must('runuser', asUser([tsdock, '--root', rlRoot, 'pull', '-q', image]));
  cases['tsdock-rootless'] = () => time('runuser', asUser([tsdock, '--root', rlRoot, 'run', '--rm', image, 'true']));
}
const results = {};
try {
  for (let n = 0; n < runs; n++) for (const [name, fn] of Object.entries(cases)) (results[name] ??= []).push(fn());
} finally {
  if (hasPodman) spawnSync('podman', [...podmanArgs, 'system', 'reset', '-f'], { stdio: 'ignore', env: { ...process.env, CONTAINERS_CONF: podmanConf } });
  try {
    process.kill(Number(fs.readFileSync(path.join(work, 'xdg', 'tsdock', 'pause.pid'), 'utf8').split(' ')[0]), 'SIGKILL');
  } catch {
    // no rootless run
  }
  spawnSync('rm', ['-rf', work]);
}
console.log(`run --rm ${image} true, ${runs} runs each (median ms)`);
const m = Object.fromEntries(Object.entries(results).map(([k, v]) => [k, median(v)]));
for (const [name, ms] of Object.entries(m)) console.log(`${name.padEnd(16)} ${ms.toFixed(1).padStart(7)} ms`);
if (m.podman) console.log(`tsdock/podman = ${(m.tsdock / m.podman).toFixed(3)} (target <= 0.25); tsdock/podman --network none = ${(m.tsdock / m['podman-net-none']).toFixed(3)}`);
console.log(`tsdock/floor  = ${(m.tsdock / m.floor).toFixed(2)}`);
if (m['tsdock-rootless']) console.log(`rootless tsdock/podman(rootful) = ${m.podman ? (m['tsdock-rootless'] / m.podman).toFixed(3) : 'n/a'}`);
