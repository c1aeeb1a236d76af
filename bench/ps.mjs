#!/usr/bin/env node
// `tsdock ps -a` with many containers: writes N fake container directories straight into a fresh --root
// (container.json, state.json, exit.json and a names/ entry each, as `run` leaves them; a few "running" ones
// whose pid is this script, so /proc is consulted too) and one image in images.json, then times `ps -a`
// end to end (node start-up included) as the median of several runs. Budget: 0.3 s for 200 containers.
//   npm run build && node bench/ps.mjs [--containers 200] [--runs 15]
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const arg = (name, def) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const count = arg('--containers', 200);
const runs = arg('--runs', 15);
const tsdock = path.join(repo, 'bin/tsdock');
const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdock-bench-ps-'));
process.on('exit', () => fs.rmSync(root, { recursive: true, force: true }));

const imageId = `sha256:${crypto.randomBytes(32).toString('hex')}`;
const ref = 'docker.io/library/busybox:latest';
fs.writeFileSync(
  path.join(root, 'images.json'),
  JSON.stringify({ version: 1, images: { [imageId]: { id: imageId, repoTags: [ref], repoDigests: [], manifestDigest: '', manifestMediaType: '', configDigest: imageId, layers: [], size: 4_261_000, architecture: 'amd64', os: 'linux', storedAt: new Date().toISOString() } } }),
);
const myStart = Number(fs.readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ')[19]);
fs.mkdirSync(path.join(root, 'names'));
const t0 = Date.now() - count * 60_000;
for (let i = 0; i < count; i++) {
  const id = crypto.randomBytes(32).toString('hex');
  const dir = path.join(root, 'containers', id);
  fs.mkdirSync(path.join(dir, 'upper'), { recursive: true });
  const name = `bench_${i}`;
  const created = new Date(t0 + i * 60_000).toISOString();
  const record = {
    Id: id,
    Name: name,
    Created: created,
    Image: imageId,
    ImageName: i % 2 ? 'busybox' : 'busybox:latest',
    Driver: 'overlay',
    Path: 'sh',
    Args: ['-c', `echo container ${i}; sleep 1`],
    Config: { Hostname: id.slice(0, 12), User: '', Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['sh', '-c', `echo ${i}`], Entrypoint: null, WorkingDir: '/', Labels: { bench: String(i % 3) }, Tty: false, OpenStdin: false, Volumes: null },
    HostConfig: { AutoRemove: false, NetworkMode: 'none', RestartPolicy: { Name: 'no', MaximumRetryCount: 0 }, Binds: [], ReadonlyRootfs: false, Privileged: false, CapAdd: [], CapDrop: [], SecurityOpt: [], Init: false, LogConfig: { Type: 'k8s-file', Config: {} } },
    Mounts: [],
    AnonymousVolumes: [],
    Request: { command: ['sh', '-c', `echo ${i}`], env: [], volume: [], mount: [], tmpfs: [], capAdd: [], capDrop: [], securityOpt: [], ulimit: [], network: 'none' },
  };
  fs.writeFileSync(path.join(dir, 'container.json'), JSON.stringify(record, null, 2));
  const running = i % 20 === 0;
  const started = new Date(t0 + i * 60_000 + 10).toISOString();
  fs.writeFileSync(
    path.join(dir, 'state.json'),
    JSON.stringify(running ? { Status: 'running', Pid: process.pid, PidStartTime: myStart, StartedAt: started, RestartCount: 0 } : { Status: 'exited', Pid: 0, StartedAt: started, FinishedAt: started, ExitCode: i % 4, RestartCount: 0 }),
  );
  if (!running) fs.writeFileSync(path.join(dir, 'exit.json'), JSON.stringify({ ExitCode: i % 4, Signal: 0, FinishedAt: started }));
  fs.writeFileSync(path.join(root, 'names', name), id);
}

const time = (args) => {
  const t = process.hrtime.bigint();
  const r = spawnSync(tsdock, ['--root', root, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.status !== 0) throw new Error(`tsdock ${args.join(' ')}: ${r.stderr}`);
  return { ms: Number(process.hrtime.bigint() - t) / 1e6, lines: r.stdout.toString().trim().split('\n').length };
};
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

time(['ps', '-a']); // warm the V8 code cache for the verb
for (const args of [['ps', '-a'], ['ps', '-a', '--format', 'json'], ['ps'], ['--version']]) {
  const samples = Array.from({ length: runs }, () => time(args));
  const ms = median(samples.map((s) => s.ms));
  console.log(`tsdock ${args.join(' ').padEnd(24)} ${String(samples[0].lines).padStart(4)} lines   median ${ms.toFixed(0)} ms   (min ${Math.min(...samples.map((s) => s.ms)).toFixed(0)} ms, ${runs} runs, ${count} containers)`);
}
