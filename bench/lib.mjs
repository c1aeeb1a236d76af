// What the image benchmarks (pull.mjs, archive.mjs, push.mjs) share: their flags, the image (given, or a
// debootstrap-made Debian image pushed to a registry of their own, or with `--layered` a 4-layer image of this
// host's directories: no Debian mirror needed), a work dir, GNU time's wall seconds and peak RSS, medians.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const repo = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

export const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : dflt;
};

export const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/**
 * One line per tool and phase from `results[`${tool} ${phase}`]` (each run's { secs, rss } in KiB): the median
 * time, the peak RSS and the ratio tsdock/tool, as every table in the notes gives it.
 */
export function printPhases(results, tools, phases) {
  for (const phase of phases) {
    const base = median(results[`tsdock ${phase}`].map((r) => r.secs));
    for (const name of tools) {
      const rs = results[`${name} ${phase}`];
      const secs = median(rs.map((r) => r.secs));
      const rss = Math.max(...rs.map((r) => r.rss));
      const ratio = name === 'tsdock' ? '' : `   tsdock/${name} = ${(base / secs).toFixed(2)}`;
      console.log(`${`${name} ${phase}`.padEnd(12)} ${secs.toFixed(3)} s   peak RSS ${(rss / 1024).toFixed(1)} MB${ratio}`);
    }
  }
}

/** Host directories as the layers of `--layered`'s image (~250 MB unpacked: docs, python, perl). */
const HOST_LAYERS = ['usr/share/doc', 'usr/lib/python3', 'usr/lib/python3.11', 'usr/share/perl'];

/** `--layered`'s image: each existing HOST_LAYERS directory tarred (GNU tar) as one gzip layer, pushed raw. */
async function pushHostLayers(host) {
  const { pushRaw } = await import(path.join(repo, 'dist/test/harness/index.js'));
  const layers = HOST_LAYERS.filter((d) => fs.existsSync(`/${d}`)).map((d) =>
    execFileSync('tar', ['--sort=name', '--numeric-owner', '--format=posix', '-C', '/', '-cf', '-', d], { maxBuffer: 1 << 30 }),
  );
  const pushed = await pushRaw(host, 'layered', 'bench', { layers, format: 'docker' });
  return pushed.ref;
}

/** `--runs`, `--image` (else a registry of the bench's own with bench/make-debian-image.sh's image), a work dir */
export async function benchSetup(name) {
  const runs = Number(arg('--runs', '5'));
  let image = arg('--image');
  let registry;
  if (!image) {
    const { startRegistry } = await import(path.join(repo, 'dist/test/harness/index.js'));
    registry = await startRegistry({ name: 'bench' });
    image = process.argv.includes('--layered')
      ? await pushHostLayers(registry.host)
      : execFileSync('bash', [path.join(repo, 'bench/make-debian-image.sh'), registry.host], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim().split('\n').pop();
  }
  const work = fs.mkdtempSync(path.join(os.tmpdir(), `tsdock-bench-${name}-`));
  /** wall seconds and peak RSS (kB) of one command, through GNU time */
  const measure = (cmd, args, env = {}) => {
    const out = path.join(work, 'time.txt');
    const r = spawnSync('/usr/bin/time', ['-f', '%e %M', '-o', out, cmd, ...args], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
    const [secs, rss] = fs.readFileSync(out, 'utf8').trim().split(/\s+/).slice(-2).map(Number);
    return { secs, rss };
  };
  const done = async () => {
    fs.rmSync(work, { recursive: true, force: true });
    await registry?.stop();
  };
  return { runs, image, work, measure, done, registry };
}
