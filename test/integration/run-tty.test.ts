import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { getHarness, isRoot, type HarnessData } from './shared-harness.js';
import { bin, tempRoot } from './helpers.js';

/**
 * Drive `tsdock run -it` through a real pty: util-linux `script` gives tsdock a terminal and copies what we
 * type (its stdin) to it. Each step waits for some output, then types.
 */
async function interact(args: string[], steps: Array<{ expect: RegExp; type?: string; delayMs?: number }>, timeoutMs = 20_000): Promise<{ code: number; output: string }> {
  const cmd = [process.execPath, bin, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(' ');
  const child = spawn('script', ['-qfec', cmd, '/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, TERM: 'xterm', NO_COLOR: '1' } });
  let output = '';
  let waiter: (() => void) | undefined;
  child.stdout.on('data', (d) => {
    output += d;
    waiter?.();
  });
  child.stderr.on('data', (d) => (output += d));
  const closed = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? 1)));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  let seen = 0;
  try {
    for (const step of steps) {
      await new Promise<void>((resolve, reject) => {
        const check = () => {
          const m = step.expect.exec(output.slice(seen));
          if (m) {
            seen += m.index + m[0].length;
            waiter = undefined;
            resolve();
          }
        };
        waiter = check;
        check();
        void closed.then(() => reject(new Error(`exited before ${step.expect}: ${JSON.stringify(output)}`)));
      });
      if (step.delayMs) await new Promise((r) => setTimeout(r, step.delayMs));
      if (step.type !== undefined) child.stdin.write(step.type);
    }
    child.stdin.end();
    return { code: await closed, output };
  } finally {
    clearTimeout(timer);
  }
}

describe('run -it through a real pty', { skip: !isRoot && 'needs root' }, () => {
  let h: HarnessData;
  let root: string;
  before(async () => {
    h = await getHarness();
    root = tempRoot('tty').root;
  });

  test('prompt, echo, Ctrl-C reaches the container, exit code', async () => {
    const r = await interact(['--root', root, 'run', '--rm', '-it', h.fixtures.busyboxV2s2.ref, 'sh'], [
      { expect: /# /, type: 'echo hello-$((40+2))\r' },
      { expect: /hello-42/, type: 'tty\r' },
      { expect: /\/dev\/(pts\/\d+|console)/, type: 'sleep 30\r' },
      // give the shell time to start sleep in the foreground before ^C
      { expect: /sleep 30/, type: '\x03', delayMs: 500 },
      { expect: /# /, type: 'exit 7\r' },
    ]);
    assert.equal(r.code, 7, r.output);
  });

  test('-t without -i: output through the pty, the container sees a terminal', async () => {
    const r = await interact(['--root', root, 'run', '--rm', '-t', h.fixtures.busyboxV2s2.ref, 'sh', '-c', 'test -t 0 && test -t 1 && echo is-a-tty; stty size'], [{ expect: /is-a-tty/ }]);
    assert.equal(r.code, 0, r.output);
  });
});
