import { Command } from 'commander';
import type { CliContext } from '../context.js';
import { containerDiff } from '../../api/diff.js';

export function register(parent: Command, cli: CliContext, name = 'diff'): void {
  parent
    .command(name)
    .description("Inspect changes to files or directories on a container's filesystem")
    .argument('<container>', 'container name or ID')
    .action(async (container: string) => {
      for (const c of await containerDiff(container, cli.api())) cli.out(`${c.kind} ${c.path}`);
    });
}
