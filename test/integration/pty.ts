import { spawn } from 'node:child_process';
import { bin } from './helpers.js';

/**
 * Drive `tsdock ... -it` through a real pty: util-linux `script` gives tsdock a terminal and copies what we
 * type (its stdin) to it. Each step waits for some output, then types.
 */
export async function interact(args: string[], steps: Array<{ expect: RegExp; type?: string; delayMs?: number }>, timeoutMs = 20_000): Promise<{ code: number; output: string }> {
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

