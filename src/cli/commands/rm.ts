import { Command, Option } from 'commander';
import type { CliContext } from '../context.js';
import { removeContainers } from '../../api/rm.js';
import { TsdockError } from '../../errors.js';

/** `rm` and `container rm`: prints each argument removed; every failure on stderr, exit 1 if any. */
export function register(parent: Command, cli: CliContext, name = 'rm'): void {
  parent
    .command(name)
    .description('Remove one or more containers')
    .argument('<container...>', 'containers to remove (name, ID or ID prefix)')
    .option('-f, --force', 'Force the removal of a running container (uses SIGKILL)')
    .option('-v, --volumes', 'Remove anonymous volumes associated with the container')
    .addOption(new Option('-l, --link', 'Remove the specified link (links are not supported)').hideHelp())
    .action(async (containers: string[], o: { force?: boolean; volumes?: boolean }) => {
      const r = await removeContainers({ containers, force: o.force, volumes: o.volumes }, cli.api());
      for (const c of r.removed) cli.out(c);
      if (r.errors.length) {
        for (const err of r.errors) cli.stderr.write(`Error: ${err.message}\n`);
        throw new TsdockError('', { exitCode: 1 }).silent();
      }
    });
}
