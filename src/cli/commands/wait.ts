import { Command } from 'commander';
import type { CliContext } from '../context.js';
import { waitContainer } from '../../api/wait.js';
import { TsdockError } from '../../errors.js';

/** `wait` and `container wait`: one exit code per line, in argument order; exit 1 if any container failed. */
export function register(parent: Command, cli: CliContext, name = 'wait'): void {
  parent
    .command(name)
    .description('Block until one or more containers stop, then print their exit codes')
    .argument('<container...>', 'container names, IDs or ID prefixes')
    .action(async (containers: string[]) => {
      const ctx = cli.api();
      let failed = false;
      for (const c of containers) {
        try {
          cli.out(String(await waitContainer(c, ctx)));
        } catch (err) {
          if (ctx.signal?.aborted) throw new TsdockError('', { exitCode: 130 }).silent();
          failed = true;
          cli.stderr.write(`Error: ${(err as Error).message}\n`);
        }
      }
      if (failed) throw new TsdockError('', { exitCode: 1 }).silent();
    });
}
