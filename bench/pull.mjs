#!/usr/bin/env node
// Cold-pull benchmark: tsdock vs `skopeo copy docker://… oci:…` (and `podman pull` where installed),
// same image, same loopback registry, same run. Prints medians, ratios and peak RSS.
//   npm run build && node bench/pull.mjs [--runs 5] [--image host:port/repo:tag]
// Without --image it starts a registry and pushes a debootstrap-made Debian image (bench/make-debian-image.sh).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { benchSetup, median, repo } from './lib.mjs';

const { runs, image, work, measure, done } = await benchSetup('pull');

const tools = {
  tsdock: (i) => {
    const root = path.join(work, `tsdock-${i}`);
    const m = measure(path.join(repo, 'bin/tsdock'), ['--root', root, 'pull', '-q', image]);
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

const results = {};
try {
  for (let i = 0; i < runs; i++) for (const [name, fn] of Object.entries(tools)) (results[name] ??= []).push(fn(i));
} finally {
  await done();
}
console.log(`cold pull of ${image}, ${runs} runs each (median)`);
const base = median(results.tsdock.map((r) => r.secs));
for (const [name, rs] of Object.entries(results)) {
  const secs = median(rs.map((r) => r.secs));
  const rss = Math.max(...rs.map((r) => r.rss));
  console.log(`${name.padEnd(8)} ${secs.toFixed(3)} s   peak RSS ${(rss / 1024).toFixed(1)} MB   tsdock/${name} = ${(base / secs).toFixed(2)}`);
}
