#!/usr/bin/env node
// Push benchmark: `tsdock push` vs `skopeo copy oci:… docker://…` (a local source each: tsdock's store, an OCI
// layout), the same multi-layer image to the same loopback registry, in one run, A B A B. Each run pushes to a
// fresh repository (cold: every blob uploaded) and then once more to it (warm: every blob present, HEADs only).
// tsdock pushes from a copy of its store made for the run (hard links), so the RepoDigests an earlier run added
// do not turn uploads into cross-repository mounts; skopeo runs with an empty blob-info cache (a tmpfs over
// /var/lib/containers/cache in a private mount namespace) for the same reason. Prints medians, ratios, peak RSS.
// With --from-layout tsdock's copy has no kept blobs: every layer is rebuilt from diff/ + tar-layout.gz and gzip'd
// while it streams (a store from before push kept blobs; a committed layer takes the same path).
//   npm run build && node bench/push.mjs [--runs 5] [--layered | --image host:port/repo:tag] [--from-layout]
// Without --image it starts a registry with the image (bench/lib.mjs); the destination is a second registry.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { benchSetup, printPhases, repo } from './lib.mjs';

const { runs, image, work, measure, done } = await benchSetup('push');
const { startRegistry } = await import(path.join(repo, 'dist/test/harness/index.js'));
const dest = await startRegistry({ name: 'bench-push-dest' });

const tsdockBin = path.join(repo, 'bin/tsdock');
const source = path.join(work, 'tsdock-source');
const layout = path.join(work, 'layout');
const CACHE = '/var/lib/containers/cache';
const skopeo = (...args) =>
  process.getuid() === 0 ? ['unshare', ['-m', 'sh', '-c', `mkdir -p ${CACHE} && mount -t tmpfs tmpfs ${CACHE} && exec skopeo "$@"`, 'skopeo', ...args]] : ['skopeo', args];

const tools = {
  tsdock: (i) => {
    const root = path.join(work, `tsdock-${i}`);
    execFileSync('cp', ['-al', source, root]);
    if (process.argv.includes('--from-layout')) {
      const layers = path.join(root, 'layers', 'sha256');
      for (const chain of fs.readdirSync(layers)) fs.rmSync(path.join(layers, chain, 'blob'), { force: true });
    }
    const target = `${dest.host}/tsdock-${i}:bench`;
    const push = () => measure(tsdockBin, ['--root', root, 'push', '-q', '--tls-verify=false', image, target]);
    const out = { cold: push(), warm: push() };
    fs.rmSync(root, { recursive: true, force: true });
    return out;
  },
  skopeo: (i) => {
    const copy = () => measure(...skopeo('copy', '--quiet', '--dest-tls-verify=false', '--dest-no-creds', `oci:${layout}:bench`, `docker://${dest.host}/skopeo-${i}:bench`));
    return { cold: copy(), warm: copy() };
  },
};

const results = {};
let summary = '';
try {
  execFileSync(tsdockBin, ['--root', source, 'pull', '-q', '--tls-verify=false', image], { stdio: 'ignore' });
  execFileSync(...skopeo('copy', '--quiet', '--src-tls-verify=false', '--src-no-creds', `docker://${image}`, `oci:${layout}:bench`), { stdio: 'ignore' });
  const top = JSON.parse(fs.readFileSync(path.join(layout, 'index.json'), 'utf8')).manifests[0];
  const manifest = JSON.parse(fs.readFileSync(path.join(layout, 'blobs', ...top.digest.split(':')), 'utf8'));
  summary = `${manifest.layers.length} layers, ${(manifest.layers.reduce((a, l) => a + l.size, 0) / 1048576).toFixed(1)} MB compressed`;
  for (let i = 0; i < runs; i++) {
    for (const [name, fn] of Object.entries(tools)) {
      const r = fn(i);
      for (const phase of ['cold', 'warm']) (results[`${name} ${phase}`] ??= []).push(r[phase]);
    }
  }
} finally {
  await dest.stop();
  await done();
}
console.log(`push of ${image} (${summary}), ${runs} runs each (median)`);
printPhases(results, Object.keys(tools), ['cold', 'warm']);
