import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { getHarness, isRoot } from './shared-harness.js';
import { bin, tempRoot } from './helpers.js';

// 2000 by default (the run issue's acceptance); TSDOCK_STRESS_STARTS lowers it for quick local runs.
const TOTAL = Number(process.env.TSDOCK_STRESS_STARTS ?? 2000);
const LOOPS = 2;
const PER_START_TIMEOUT_MS = 15_000;
/** in the environment of every process this file starts (the executors inherit it): what is left is ours */
const MARK = `stress-${process.pid}-${Date.now()}`;

function markedProcesses(): string[] {
  const out: string[] = [];
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (fs.readFileSync(`/proc/${pid}/environ`, 'utf8').includes(`TSDOCK_TEST_MARK=${MARK}`)) out.push(`${pid} ${fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ')}`);
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

function start(root: string, image: string, i: number): Promise<{ code: number; stdout: string; ms: number }> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, '--root', root, 'run', '--rm', image, 'echo', `start-${i}`], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TSDOCK_TEST_MARK: MARK } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`start ${i} hung for ${PER_START_TIMEOUT_MS} ms: ${stderr}`));
    }, PER_START_TIMEOUT_MS);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`start ${i} exited ${code}: ${stderr}`));
      else resolve({ code: code ?? 1, stdout, ms: Date.now() - t0 });
    });
  });
}

describe(`${TOTAL} consecutive starts under concurrent load`, { skip: !isRoot && 'needs root' }, () => {
  let image: string;
  let root: string;
  before(async () => {
    image = (await getHarness()).fixtures.busyboxV2s2.ref;
    root = tempRoot('stress').root;
    execFileSync(process.execPath, [bin, '--root', root, 'pull', '-q', image]);
  });

  test('no hang, every start succeeds, nothing left behind', { timeout: 30 * 60_000 }, async (t) => {
    // load: a CPU burner beside the two start loops
    const burner = spawn('sh', ['-c', 'while :; do :; done'], { stdio: 'ignore' });
    const times: number[] = [];
    try {
      let next = 0;
      await Promise.all(
        Array.from({ length: LOOPS }, async () => {
          while (next < TOTAL) {
            const i = next++;
            const r = await start(root, image, i);
            assert.equal(r.stdout, `start-${i}\n`);
            times.push(r.ms);
          }
        }),
      );
    } finally {
      burner.kill('SIGKILL');
    }
    times.sort((a, b) => a - b);
    const q = (p: number) => times[Math.min(times.length - 1, Math.floor(times.length * p))];
    t.diagnostic(`${TOTAL} starts: median ${q(0.5)} ms, p99 ${q(0.99)} ms, max ${times[times.length - 1]} ms`);
    assert.equal(times.length, TOTAL);
    // nothing left: no container dirs, no mounts under the root, no executor processes
    assert.deepEqual(fs.readdirSync(path.join(root, 'containers')), []);
    const mounts = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(root));
    assert.deepEqual(mounts, []);
    assert.deepEqual(markedProcesses(), [], 'no tsdock or executor process of this test is left');
  });
});
