#!/usr/bin/env node
// The whole test suite (what .ci/run calls through `npm test`, after the build):
//  1. static checks: layer boundaries, generated man pages/completion and native/codes.h up to date;
//  2. unit tests;
//  3. integration tests against real registries that one shared harness starts (and always stops);
//  4. the cgroup integration tests again inside a cgroup-v2-only QEMU VM (scripts/vm/).
// Usage: node scripts/test.mjs [--unit] [--integration] [file filters...]
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const args = process.argv.slice(2);
const only = args.filter((a) => !a.startsWith('--'));
const wantUnit = !args.includes('--integration');
const wantIntegration = !args.includes('--unit');

const walk = (dir) => (fs.existsSync(dir) ? fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : e.name.endsWith('.test.js') ? [path.join(dir, e.name)] : [])) : []);
const pick = (files) => (only.length ? files.filter((f) => only.some((o) => f.includes(o))) : files);

for (const script of ['scripts/check-layers.mjs', 'scripts/gen-docs.mjs', 'scripts/gen-native-codes.mjs']) {
  const r = spawnSync(process.execPath, [path.join(repo, script), '--check'], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

const files = [...(wantUnit ? pick(walk(path.join(repo, 'dist/test/unit'))) : []), ...(wantIntegration ? pick(walk(path.join(repo, 'dist/test/integration'))) : [])];
let harness;
const needsHarness = files.some((f) => f.includes(`${path.sep}integration${path.sep}`)) && process.getuid?.() === 0;
const stopHarness = () => {
  if (harness && harness.exitCode === null) harness.kill('SIGTERM');
};
process.on('exit', stopHarness);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => {
  stopHarness();
  process.exit(130);
});

const env = { ...process.env };
if (needsHarness) {
  const info = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'tsdock-harness-')), 'harness.json');
  harness = spawn(process.execPath, [path.join(repo, 'dist/test/integration/harness-serve.js'), info], { stdio: ['ignore', 'inherit', 'inherit'] });
  const t0 = Date.now();
  while (!fs.existsSync(info)) {
    if (harness.exitCode !== null) {
      console.error('the test harness failed to start');
      process.exit(1);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  console.log(`harness ready in ${((Date.now() - t0) / 1000).toFixed(1)}s`);
  env.TSDOCK_HARNESS = info;
}

const runner = spawn(process.execPath, ['--test', '--test-concurrency=2', ...files], { stdio: 'inherit', env });
let code = await new Promise((resolve) => runner.on('close', (c) => resolve(c ?? 1)));
stopHarness();
if (harness) await new Promise((r) => (harness.exitCode !== null ? r() : harness.on('close', r)));

// no cgroup, lease, veth, nft rule, bridge or helper process may outlive the suite (scripts/leftovers.mjs)
if (needsHarness) {
  const { leftovers } = await import('./leftovers.mjs');
  const left = leftovers();
  if (left.length) {
    console.error(`# left behind by the suite:\n${left.join('\n')}`);
    if (code === 0) code = 1;
  } else console.log('# nothing left behind (cgroups, leases, veths, nft rules, bridges, helper processes)');
}

// 4. the cgroup tests once more on a pure cgroup v2 kernel (this host is a v1/v2 hybrid): a QEMU VM booting
//    Debian's kernel with cgroup_no_v1=all over the host's own files (scripts/vm/). Skipped inside that VM, with
//    TSDOCK_SKIP_VM=1, or when the VM's kernel and QEMU are not installed (said so, not silently).
const wantVm = wantIntegration && process.getuid?.() === 0 && !process.env.TSDOCK_IN_VM && (!only.length || only.some((o) => 'cgroups'.includes(o) || o.includes('cgroup')));
if (wantVm) {
  const vm = path.join(repo, 'scripts/vm');
  if (process.env.TSDOCK_SKIP_VM === '1') {
    console.log('# cgroup v2 VM pass: skipped (TSDOCK_SKIP_VM=1)');
  } else if (spawnSync(path.join(vm, 'install-vm-deps.sh'), ['--check'], { stdio: 'ignore' }).status !== 0) {
    console.log('# cgroup v2 VM pass: SKIPPED: QEMU or the VM kernel is missing (run scripts/vm/install-vm-deps.sh as root)');
  } else {
    const t0 = Date.now();
    console.log('# cgroup v2 VM pass: booting a cgroup-v2-only kernel under QEMU (TCG) for the cgroup tests');
    const r = spawnSync(path.join(vm, 'run-in-vm.sh'), ['--timeout', '900', '--', process.execPath, path.join(repo, 'scripts/test.mjs'), '--integration', 'cgroups'], {
      stdio: 'inherit',
      cwd: repo,
      env: { ...process.env, TSDOCK_IN_VM: '1' },
    });
    console.log(`# cgroup v2 VM pass: exit ${r.status} after ${((Date.now() - t0) / 1000).toFixed(0)}s`);
    if (r.status !== 0 && code === 0) code = r.status ?? 1;
  }
}
process.exit(code);
