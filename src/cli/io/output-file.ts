import fs from 'node:fs';
import type { Writable } from 'node:stream';
import type { CliContext } from '../context.js';
import { TsdockError, suppressInto } from '../../errors.js';

/**
 * A verb's binary output (export, save): into `file` (written beside it, renamed into place when complete,
 * removed on failure), or to stdout, which must not be a terminal (docker's refusal).
 */
export async function writeOutput(cli: CliContext, file: string | undefined, write: (out: Writable) => Promise<void>): Promise<void> {
  if (!file) {
    if (cli.stdout.isTTY) throw new TsdockError('cowardly refusing to save to a terminal. Use the -o flag or redirect');
    await write(cli.stdout);
    return;
  }
  const tmp = `${file}.tsdock-tmp-${process.pid}`;
  // opened now: an unwritable place is a one-line error before any work, not an unhandled stream error
  let fd: number;
  try {
    fd = fs.openSync(tmp, 'w', 0o644);
  } catch (err) {
    throw new TsdockError(`open ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`, { cause: err });
  }
  const out = fs.createWriteStream('', { fd });
  const closed = new Promise<void>((resolve, reject) => {
    out.once('close', resolve);
    out.once('error', reject);
  });
  closed.catch(() => {}); // a write error also fails `write`; awaited below when it does not
  try {
    await write(out);
    out.end();
    await closed;
    fs.renameSync(tmp, file);
  } catch (err) {
    out.destroy();
    await fs.promises.rm(tmp, { force: true }).catch(suppressInto(err));
    throw err;
  }
}
