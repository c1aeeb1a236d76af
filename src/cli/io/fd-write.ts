import fs from 'node:fs';

/**
 * Write all of `text` to `fd` now. A one-line answer (`rm`, `create`, `stop` print an id) goes straight to fd 1
 * instead of through process.stdout, whose stream costs ~1.5 ms to make when fd 1 is a pipe (Node loads net for
 * it); Node writes pipes, files and terminals synchronously on Linux anyway, so the order of output is the same.
 * A descriptor someone else made non-blocking is waited on; a reader that is gone (EPIPE) ends the output
 * silently, as a closed pipe ends a shell pipeline.
 */
export function writeAllSync(fd: number, text: string): void {
  const buf = Buffer.from(text);
  for (let off = 0; off < buf.length; ) {
    try {
      off += fs.writeSync(fd, buf, off);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EPIPE') return;
      if (code !== 'EAGAIN') throw err;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
    }
  }
}
