#!/usr/bin/env node
// Cold-pull benchmark: tsdock vs `skopeo copy docker://… oci:…` (and `podman pull` where installed),
// same image, same loopback registry, same run. Prints medians, ratios and peak RSS.
//   npm run build && node bench/pull.mjs [--runs 5] [--image host:port/repo:tag]
// Without --image it starts a registry and pushes a debootstrap-made Debian image (bench/make-debian-image.sh).
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const runs = Number(arg('--runs', '5'));
let image = arg('--image');
let registry;
if (!image) {
  const { startRegistry } = await import(path.join(repo, 'dist/test/harness/index.js'));
  registry = await startRegistry({ name: 'bench' });
  image = execFileSync('bash', [path.join(repo, 'bench/make-debian-image.sh'), registry.host], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').pop();
}
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdock-bench-pull-'));

/** wall seconds and peak RSS (kB) of one command, through GNU time */
function measure(cmd, args, env = {}) {
  const out = path.join(work, 'time.txt');
  const r = spawnSync('/usr/bin/time', ['-f', '%e %M', '-o', out, cmd, ...args], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  const [secs, rss] = fs.readFileSync(out, 'utf8').trim().split(/\s+/).slice(-2).map(Number);
  return { secs, rss };
}

const tools = {
  tsdock: (i) => {
    const root = path.join(work, `tsdock-${i}`);
    const m = measure(process.execPath, [path.join(repo, 'bin/tsdock'), '--root', root, 'pull', '-q', image]);
    fs.rmSync(root, { recursive: true, force: true });
    return m;
  },
  skopeo: (i) => {
    const dest = path.join(work, `skopeo-${i}`);
    const m = measure('skopeo', ['copy', '--quiet', '--src-tls-verify=false', `docker://${image}`, `oci:${dest}:bench`]);
    fs.rmSync(dest, { recursive: true, force: true });
    return m;
  },
};
if (spawnSync('podman', ['--version']).status === 0) {
  tools.podman = (i) => {
    const root = path.join(work, `podman-${i}`);
    const m = measure('podman', ['--root', root, '--runroot', `${root}-run`, '--storage-driver', 'overlay', 'pull', '-q', '--tls-verify=false', image]);
    spawnSync('podman', ['--root', root, '--runroot', `${root}-run`, 'system', 'reset', '-f'], { stdio: 'ignore' });
    fs.rmSync(root, { recursive: true, force: true });
    fs.rmSync(`${root}-run`, { recursive: true, force: true });
    return m;
  };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const results = {};
try {
  for (let i = 0; i < runs; i++) for (const [name, fn] of Object.entries(tools)) (results[name] ??= []).push(fn(i));
} finally {
  fs.rmSync(work, { recursive: true, force: true });
  await registry?.stop();
}
console.log(`cold pull of ${image}, ${runs} runs each (median)`);
const base = median(results.tsdock.map((r) => r.secs));
for (const [name, rs] of Object.entries(results)) {
  const secs = median(rs.map((r) => r.secs));
  const rss = Math.max(...rs.map((r) => r.rss));
  console.log(`${name.padEnd(8)} ${secs.toFixed(3)} s   peak RSS ${(rss / 1024).toFixed(1)} MB   tsdock/${name} = ${(base / secs).toFixed(2)}`);
}
