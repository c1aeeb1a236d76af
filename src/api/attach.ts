import net from 'node:net';
import type { Context } from '../context.js';
import { TsdockError } from '../errors.js';
import { resolveContainer } from '../container/lookup.js';
import { loadRecord } from '../container/state.js';
import { runningPid } from '../container/running.js';
import { attachSocketPath } from './start.js';
import { waitContainer } from './wait.js';

/** docker's default detach keys: ctrl-p, ctrl-q */
const DETACH = Buffer.from([0x10, 0x11]);

/**
 * Attach to a running container through its monitor's socket (docs/lifecycle-design.md): output to our
 * stdout/stderr (framed unless the container has a tty), our stdin to the container with `stdin`. Ctrl-p ctrl-q
 * detaches (the container keeps running). With `waitExit`, resolves with the container's exit code.
 */
export async function attachContainer(ref: string, opts: { stdin: boolean; waitExit: boolean; output?: boolean }, ctx: Context): Promise<number> {
  const id = resolveContainer(ctx.root, ref);
  const record = loadRecord(ctx.root, id);
  if (runningPid(ctx.root, id) === undefined) throw new TsdockError(`you cannot attach to a stopped container, start it first`, { exitCode: 1 });
  const tty = Boolean(record?.Config.Tty);
  const sock = net.createConnection(attachSocketPath(ctx.runRoot, id));
  await new Promise<void>((resolve, reject) => {
    sock.once('connect', resolve);
    sock.once('error', (err) => reject(new TsdockError(`attach ${ref}: ${err.message}`)));
  });
  let detached = false;
  const stdin = opts.stdin ? ctx.stdin : undefined;
  const raw = Boolean(tty && stdin?.isTTY && stdin.setRawMode);
  if (raw) stdin!.setRawMode!(true);
  let pending = Buffer.alloc(0);
  sock.on('data', (chunk: Buffer) => {
    if (opts.output === false) return;
    if (tty) {
      ctx.stdout.write(chunk);
      return;
    }
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 5) {
      const len = pending.readUInt32BE(1);
      if (pending.length < 5 + len) break;
      (pending[0] === 2 ? ctx.stderr : ctx.stdout).write(pending.subarray(5, 5 + len));
      pending = pending.subarray(5 + len);
    }
  });
  const done = new Promise<void>((resolve) => sock.once('close', () => resolve()));
  let prev = -1;
  const onInput = (data: Buffer) => {
    for (const b of data) {
      if (prev === DETACH[0] && b === DETACH[1]) {
        detached = true;
        sock.destroy();
        return;
      }
      prev = b;
    }
    sock.write(data);
  };
  if (stdin) {
    stdin.on('data', onInput);
    stdin.once('end', () => sock.end());
  }
  try {
    await done;
  } finally {
    if (stdin) {
      stdin.off('data', onInput);
      stdin.pause();
    }
    if (raw) stdin!.setRawMode!(false);
  }
  if (detached || !opts.waitExit) return 0;
  return waitContainer(id, ctx);
}
