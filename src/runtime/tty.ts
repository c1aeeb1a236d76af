/**
 * `-t` glue: copies between a pty master and the CLI's streams while a container runs.
 *
 * master → stdout always; stdin → master only when interactive (`-i`). While attached, an interactive TTY stdin
 * is in raw mode (restored on every way out, including process exit), and the pty follows the host terminal's
 * window size (stdout's 'resize' event, which Node emits on SIGWINCH). Once the container has exited, whatever
 * is still buffered in the master is copied out; EIO from the master (every slave fd closed) is the normal end.
 *
 * The session owns the master fd and closes it. The caller must close its own copy of the slave once the
 * executor has been spawned, otherwise the master never reports end-of-stream (a fallback idle timer ends the
 * drain anyway).
 */
import fs from 'node:fs';
import tty from 'node:tty';
import type { Readable, Writable } from 'node:stream';
import { openPty, setNonBlocking, setWinsize, type Pty } from '../sys/pty.js';

export type { Pty };

type TtyIn = Readable & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown; isRaw?: boolean };
type TtyOut = Writable & { isTTY?: boolean; columns?: number; rows?: number };

/** A container's terminal (`-t`): a new pty pair, its window size set when given; nothing is left open on an error. */
export function openTerminal(size?: { rows: number; cols: number }): Pty {
  const pty = openPty();
  try {
    if (size) setWinsize(pty.master, size.rows, size.cols);
  } catch (err) {
    closeTerminal(pty);
    throw err;
  }
  return pty;
}

/** Closes tsdock's copies of both ends (once the executor has its own, or when the start failed). */
export function closeTerminal(pty: Pty): void {
  for (const fd of [pty.master, pty.slave]) fs.closeSync(fd);
}

export interface AttachTtyOptions {
  master: number;
  stdin?: TtyIn;
  stdout: TtyOut;
  /** copy stdin to the container (`-i`) */
  interactive: boolean;
  /** settles when the container has exited (e.g. ExecutorHandle.exited) */
  exited: Promise<unknown>;
  /** after the exit, give up draining when the master has been silent this long (default 300 ms) */
  drainIdleMs?: number;
  /** each chunk of output, also (the container's log) */
  onOutput?: (chunk: Buffer) => void;
}

export interface TtySession {
  /** resolves once the container exited and its output was copied; rejects on a stream error other than EIO */
  done: Promise<void>;
  /** stop copying now and restore the terminal */
  close(): void;
}

export function attachTty(opts: AttachTtyOptions): TtySession {
  const { master, stdout, interactive } = opts;
  const stdin = interactive ? opts.stdin : undefined;
  const drainIdleMs = opts.drainIdleMs ?? 300;

  // libuv reads a pty master as a TTY handle, which must be non-blocking; writes go through fs.write
  setNonBlocking(master, true);
  const reader = new tty.ReadStream(master);

  let finished = false;
  let exitedFlag = false;
  let idleTimer: NodeJS.Timeout | undefined;
  let resolveDone!: () => void;
  let rejectDone!: (err: unknown) => void;
  const done = new Promise<void>((res, rej) => {
    resolveDone = res;
    rejectDone = rej;
  });

  // raw mode while attached
  const raw = !!(stdin?.isTTY && typeof stdin.setRawMode === 'function');
  const wasRaw = raw ? !!stdin!.isRaw : false;
  const restoreRaw = () => {
    if (raw) {
      try {
        stdin!.setRawMode!(wasRaw);
      } catch {
        // the terminal is gone
      }
    }
  };
  if (raw) stdin!.setRawMode!(true);
  process.once('exit', restoreRaw);

  // window size
  const syncSize = () => {
    if (stdout.isTTY && stdout.rows && stdout.columns) {
      try {
        setWinsize(master, stdout.rows, stdout.columns);
      } catch {
        // the master is closed
      }
    }
  };
  syncSize();
  stdout.on('resize', syncSize);

  const finish = (err?: unknown) => {
    if (finished) return;
    finished = true;
    if (idleTimer) clearTimeout(idleTimer);
    stdout.off('resize', syncSize);
    if (stdin) {
      stdin.off('data', onInput);
      stdin.pause();
    }
    restoreRaw();
    process.off('exit', restoreRaw);
    reader.off('data', onOutput);
    if (!writing) reader.destroy(); // closes the master (after an in-flight write, see pump)
    if (err) rejectDone(err);
    else resolveDone();
  };

  const armIdle = () => {
    if (!exitedFlag || finished) return;
    if (idleTimer) clearTimeout(idleTimer);
    idleTimer = setTimeout(() => finish(), drainIdleMs);
  };

  // master → stdout, with back-pressure
  const onOutput = (chunk: Buffer) => {
    opts.onOutput?.(chunk);
    if (!stdout.write(chunk)) {
      reader.pause();
      stdout.once('drain', () => reader.resume());
    }
    armIdle();
  };
  reader.on('data', onOutput);
  reader.on('error', (err: NodeJS.ErrnoException) => (err.code === 'EIO' ? finish() : finish(err)));
  reader.on('end', () => finish());

  // stdin → master (writes retried while the pty's input queue is full)
  const queue: Buffer[] = [];
  let writing = false;
  const pump = () => {
    if (writing || finished) return;
    const chunk = queue[0];
    if (!chunk) return;
    writing = true;
    fs.write(master, chunk, 0, chunk.length, null, (err, n) => {
      writing = false;
      if (finished) {
        reader.destroy();
        return;
      }
      if (err) {
        if (err.code === 'EAGAIN' || err.code === 'EINTR') {
          setTimeout(pump, 5);
          return;
        }
        queue.length = 0; // EIO: the container side is gone
        return;
      }
      if (n < chunk.length) queue[0] = chunk.subarray(n);
      else queue.shift();
      pump();
    });
  };
  const onInput = (chunk: Buffer | string) => {
    queue.push(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    pump();
  };
  if (stdin) {
    stdin.on('data', onInput);
    stdin.resume();
  }

  opts.exited.then(
    () => {
      exitedFlag = true;
      armIdle();
    },
    (err) => finish(err),
  );

  return { done, close: () => finish() };
}
