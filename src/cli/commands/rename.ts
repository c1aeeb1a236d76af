import { Command } from 'commander';
import type { CliContext } from '../context.js';
import { renameContainer } from '../../api/rename.js';

/** `rename` and `container rename`: prints nothing on success, as docker. */
export function register(parent: Command, cli: CliContext, name = 'rename'): void {
  parent
    .command(name)
    .description('Rename a container')
    .argument('<container>', 'container name, ID or ID prefix')
    .argument('<new-name>', 'the new name')
    .action(async (container: string, newName: string) => {
      await renameContainer(container, newName, cli.api());
    });
}
