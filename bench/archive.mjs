#!/usr/bin/env node
// save/load benchmark: `tsdock save`/`load` vs `podman save`/`load` (docker-archive), same image, same run.
// Each tool pulls the image once into a store of its own; then every run (A B A B) saves it to a file and loads
// that file into a fresh store. Prints medians, ratios and peak RSS.
//   npm run build && node bench/archive.mjs [--runs 5] [--layered | --image host:port/repo:tag]
// Without --image it starts a registry and pushes a debootstrap-made Debian image (bench/make-debian-image.sh).
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { benchSetup, printPhases, repo } from './lib.mjs';

const { runs, image, work, measure, done } = await benchSetup('archive');

const tsdock = (root, ...args) => [path.join(repo, 'bin/tsdock'), ['--root', root, ...args]];
// a tmpdir per store: `system reset` removes it
const podmanArgs = (root) => ['--root', root, '--runroot', `${root}-run`, '--storage-driver', 'overlay', '--tmpdir', `${root}-tmp`];
const tools = {
  tsdock: {
    setup: (root) => execFileSync(...tsdock(root, 'pull', '-q', image), { stdio: 'ignore' }),
    save: (root, file) => measure(...tsdock(root, 'save', '-o', file, image)),
    load: (root, file) => measure(...tsdock(root, 'load', '-i', file)),
    reset: (root) => fs.rmSync(root, { recursive: true, force: true }),
  },
};
if (spawnSync('podman', ['--version']).status === 0) {
  tools.podman = {
    setup: (root) => execFileSync('podman', [...podmanArgs(root), 'pull', '-q', '--tls-verify=false', image], { stdio: 'ignore' }),
    save: (root, file) => measure('podman', [...podmanArgs(root), 'save', '-q', '--format', 'docker-archive', '-o', file, image]),
    load: (root, file) => measure('podman', [...podmanArgs(root), 'load', '-q', '-i', file]),
    reset: (root) => {
      spawnSync('podman', [...podmanArgs(root), 'system', 'reset', '-f'], { stdio: 'ignore' });
      fs.rmSync(root, { recursive: true, force: true });
      fs.rmSync(`${root}-run`, { recursive: true, force: true });
      fs.rmSync(`${root}-tmp`, { recursive: true, force: true });
    },
  };
}

const results = {};
const source = (name) => path.join(work, `${name}-source`);
try {
  for (const [name, t] of Object.entries(tools)) t.setup(source(name));
  // A B A B: both tools see the same load on a shared machine
  for (let i = 0; i < runs; i++) {
    for (const [name, t] of Object.entries(tools)) {
      const file = path.join(work, `${name}-${i}.tar`);
      const dest = path.join(work, `${name}-dest-${i}`);
      (results[`${name} save`] ??= []).push(t.save(source(name), file));
      (results[`${name} load`] ??= []).push(t.load(dest, file));
      t.reset(dest);
      fs.rmSync(file, { force: true });
    }
  }
  for (const [name, t] of Object.entries(tools)) t.reset(source(name));
} finally {
  await done();
}
console.log(`save and load (docker-archive) of ${image}, ${runs} runs each (median)`);
printPhases(results, Object.keys(tools), ['save', 'load']);
