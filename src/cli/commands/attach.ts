import { Command } from 'commander';
import type { CliContext } from '../context.js';

export function register(program: Command, cli: CliContext): void {
  program
    .command('attach')
    .description('Attach local standard input, output, and error streams to a running container')
    .argument('<container>', 'name or ID')
    .option('--no-stdin', 'Do not attach STDIN')
    .action(async (container: string, o: { stdin: boolean }) => {
      const { attachContainer } = await import('../../api/attach.js');
      process.exitCode = await attachContainer(container, { stdin: o.stdin, waitExit: true }, cli.api());
    });
}
