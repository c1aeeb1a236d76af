import fs from 'node:fs';
import { Command } from 'commander';
import type { CliContext } from '../context.js';
import { exportContainer } from '../../api/export.js';
import { TsdockError } from '../../errors.js';

export function register(parent: Command, cli: CliContext, name = 'export'): void {
  parent
    .command(name)
    .description("Export a container's filesystem as a tar archive")
    .argument('<container>', 'container name or ID')
    .option('-o, --output <file>', 'Write to a file, instead of STDOUT')
    .action(async (container: string, o: { output?: string }) => {
      if (!o.output) {
        if (cli.stdout.isTTY) throw new TsdockError('cowardly refusing to save to a terminal. Use the -o flag or redirect');
        await exportContainer({ container, out: cli.stdout }, cli.api());
        return;
      }
      const tmp = `${o.output}.tsdock-tmp-${process.pid}`;
      const out = fs.createWriteStream(tmp, { mode: 0o644 });
      const closed = new Promise<void>((resolve, reject) => {
        out.once('close', resolve);
        out.once('error', reject);
      });
      try {
        await exportContainer({ container, out }, cli.api());
        out.end();
        await closed;
        fs.renameSync(tmp, o.output);
      } catch (err) {
        out.destroy();
        fs.rmSync(tmp, { force: true });
        throw err;
      }
    });
}
