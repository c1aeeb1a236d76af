import { Command } from 'commander';
import type { CliContext } from '../context.js';
import { exportContainer } from '../../api/export.js';
import { writeOutput } from '../io/output-file.js';

export function register(parent: Command, cli: CliContext, name = 'export'): void {
  parent
    .command(name)
    .description("Export a container's filesystem as a tar archive")
    .argument('<container>', 'container name or ID')
    .option('-o, --output <file>', 'Write to a file, instead of STDOUT')
    .action(async (container: string, o: { output?: string }) => {
      await writeOutput(cli, o.output, (out) => exportContainer({ container, out }, cli.api()));
    });
}
