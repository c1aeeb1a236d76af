import { Command } from 'commander';
import type { CliContext } from '../context.js';
import { commitContainer } from '../../api/commit.js';
import { collect } from '../opts/flags.js';

export function register(parent: Command, cli: CliContext, name = 'commit'): void {
  parent
    .command(name)
    .description("Create a new image from a container's changes")
    .argument('<container>', 'container name or ID')
    .argument('[repository]', 'REPOSITORY[:TAG] for the new image')
    .option('-a, --author <author>', 'Author (e.g., "John Hannibal Smith <hannibal@a-team.com>")')
    .option('-c, --change <instruction>', 'Apply Dockerfile instruction to the created image', collect, [])
    .option('-m, --message <message>', 'Commit message')
    .option('-p, --pause [bool]', 'Pause container during commit (accepted; tsdock does not pause)', (v) => v !== 'false', true)
    .action(async (container: string, repository: string | undefined, o: { author?: string; change: string[]; message?: string }) => {
      const r = await commitContainer({ container, reference: repository, changes: o.change, message: o.message, author: o.author }, cli.api());
      cli.out(r.id);
    });
}
