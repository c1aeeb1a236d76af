import { Command } from 'commander';
import type { CliContext } from '../context.js';
import { TsdockError } from '../../errors.js';
import { forEachContainer } from '../render/each.js';

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
        const ref = containers[0]!;
        // output from the very start: follow this run's log records (the attach socket would miss what a
        // short-lived container printed before we connected); stdin, with -i, goes through the attach socket
        const since = new Date(Date.now() - 1).toISOString();
        await startContainer(ref, ctx);
        const { containerLogs } = await import('../../api/logs.js');
        const input = o.interactive ? import('../../api/attach.js').then((m) => m.attachContainer(ref, { stdin: true, output: false, waitExit: false }, ctx)).catch(() => 0) : undefined;
        await containerLogs({ container: ref, follow: true, since }, ctx);
        await input;
        const { waitContainer } = await import('../../api/wait.js');
        process.exitCode = await waitContainer(ref, ctx);
        return;
      }
      await forEachContainer(cli, containers, (c) => startContainer(c, ctx));
    });
}
