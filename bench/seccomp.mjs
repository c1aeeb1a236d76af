#!/usr/bin/env node
// Compiling docker's default seccomp profile to classic BPF (what every `run` and `exec` does once per process,
// uncached): the median over fresh copies of the profile, and the program's size. Budget: 20 ms, under 600
// instructions. Moved here from the unit tests, where a loaded CI machine made the timing flaky.
//   npm run build && node bench/seccomp.mjs [--runs 25]
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const i = process.argv.indexOf('--runs');
const runs = i > 0 ? Number(process.argv[i + 1]) : 25;
const { compileSeccomp, defaultProfile } = await import(path.join(repo, 'dist/src/ocispec/seccomp/index.js'));
const { DEFAULT_CAPABILITIES } = await import(path.join(repo, 'dist/src/ocispec/defaults.js'));

const times = [];
let insns = 0;
for (let r = 0; r < runs; r++) {
  const copy = structuredClone(defaultProfile); // a fresh copy defeats the per-process cache
  const t0 = performance.now();
  insns = compileSeccomp(copy, { arch: 'x86_64', capabilities: DEFAULT_CAPABILITIES }).length / 8;
  times.push(performance.now() - t0);
}
times.sort((a, b) => a - b);
const median = times[Math.floor(times.length / 2)];
console.log(`seccomp compile (docker default profile, x86_64): median ${median.toFixed(2)} ms, slowest ${times.at(-1).toFixed(2)} ms, ${insns} instructions (budget 20 ms, 600)`);
process.exitCode = median < 20 && insns < 600 ? 0 : 1;
