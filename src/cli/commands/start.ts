import { Command } from 'commander';
import type { CliContext } from '../context.js';
import { TsdockError } from '../../errors.js';

export function register(program: Command, cli: CliContext): void {
  program
    .command('start')
    .description('Start one or more stopped containers')
    .argument('<container...>', 'names or IDs')
    .option('-a, --attach', 'Attach STDOUT/STDERR and forward signals')
    .option('-i, --interactive', "Attach container's STDIN")
    .action(async (containers: string[], o: { attach?: boolean; interactive?: boolean }) => {
      const { startContainer } = await import('../../api/start.js');
      const ctx = cli.api();
      if (o.attach || o.interactive) {
        if (containers.length !== 1) throw new TsdockError('you cannot start and attach multiple containers at once', { exitCode: 1 });
        const { attachContainer } = await import('../../api/attach.js');
        await startContainer(containers[0]!, ctx);
        process.exitCode = await attachContainer(containers[0]!, { stdin: Boolean(o.interactive), waitExit: true }, ctx);
        return;
      }
      let failed: Error | undefined;
      for (const c of containers) {
        try {
          await startContainer(c, ctx);
          cli.out(c);
        } catch (err) {
          failed = err as Error;
          cli.stderr.write(`Error: ${failed.message}\n`);
        }
      }
      if (failed) throw new TsdockError('', { exitCode: 1 }).silent();
    });
}
