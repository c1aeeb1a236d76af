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
  const out = fs.createWriteStream(tmp, { mode: 0o644 });
  const closed = new Promise<void>((resolve, reject) => {
    out.once('close', resolve);
    out.once('error', reject);
  });
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
