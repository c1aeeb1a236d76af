#!/usr/bin/env node
// Stdio relay benchmark: the cost of copying a foreground container's stdio through the executor's pipes
// (plan.relay) instead of handing it the caller's fds. `tsdock run --rm -i IMG cat` on 1 GiB of stdin vs plain
// `cat` the same way, through pipes and through files, as medians and ratios (target: tsdock >= 0.5x cat).
// `run --rm IMG true` is measured too, so the copy's own throughput can be told apart from start-up.
//   npm run build && node bench/relay.mjs [--runs 3] [--mib 1024]
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const runs = arg('--runs', 3);
const mib = arg('--mib', 1024);
const image = execFileSync('bash', [path.join(repo, 'scripts/local-registry.sh'), 'start'], { encoding: 'utf8' }).trim().split('\n').pop();
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdock-bench-relay-'));
const root = path.join(work, 'root');
const tsdock = `${path.join(repo, 'bin/tsdock')} --root ${root}`;
const input = path.join(work, 'in');
const output = path.join(work, 'out');

const sh = (script) => {
  const t = process.hrtime.bigint();
  const r = spawnSync('sh', ['-c', script], { stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`${script}: exit ${r.status}: ${r.stderr}`);
  return ms;
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const cases = {
  'cat (pipes)': `head -c ${mib}M /dev/zero | cat | cat >/dev/null`,
  'tsdock (pipes)': `head -c ${mib}M /dev/zero | ${tsdock} run --rm -i ${image} cat | cat >/dev/null`,
  'cat (files)': `cat <${input} >${output}`,
  'tsdock (files)': `${tsdock} run --rm -i ${image} cat <${input} >${output}`,
  'tsdock start-up': `${tsdock} run --rm ${image} true`,
};
const results = {};
try {
  sh(`${tsdock} pull -q ${image}`);
  sh(`head -c ${mib}M /dev/urandom >${input}`);
  for (let n = 0; n < runs; n++) {
    for (const [name, script] of Object.entries(cases)) (results[name] ??= []).push(sh(script));
    if (fs.statSync(output).size !== mib * 1024 * 1024) throw new Error('tsdock (files): the output is short');
  }
} finally {
  spawnSync('rm', ['-rf', work]);
}
const m = Object.fromEntries(Object.entries(results).map(([k, v]) => [k, median(v)]));
const rate = (ms) => `${((mib / 1024) / (ms / 1000)).toFixed(2)} GiB/s`;
console.log(`${mib} MiB through cat, ${runs} runs each (median; ${os.cpus().length} cpus, load ${os.loadavg()[0].toFixed(1)})`);
for (const [name, ms] of Object.entries(m)) console.log(`${name.padEnd(18)} ${ms.toFixed(0).padStart(7)} ms${name.includes('start-up') ? '' : `  ${rate(ms)}`}`);
const up = m['tsdock start-up'];
for (const how of ['pipes', 'files']) {
  const c = m[`cat (${how})`];
  const t = m[`tsdock (${how})`];
  console.log(`${how}: tsdock/cat throughput = ${(c / t).toFixed(2)}x (target >= 0.5); without start-up ${(c / Math.max(1, t - up)).toFixed(2)}x`);
}
