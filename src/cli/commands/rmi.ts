import { Command } from 'commander';
import type { CliContext } from '../context.js';
import { removeImages } from '../../api/rmi.js';
import { TsdockError } from '../../errors.js';

export function register(parent: Command, cli: CliContext, name = 'rmi'): void {
  parent
    .command(name)
    .description('Remove one or more images')
    .argument('<image...>', 'images to remove (name, name:tag, ID or ID prefix; also a local manifest list)')
    .option('-f, --force', 'Force removal of the image')
    .action(async (images: string[], o: { force?: boolean }) => {
      const result = await removeImages({ images, force: o.force }, cli.api());
      for (const item of result.items) cli.out('Untagged' in item ? `Untagged: ${item.Untagged}` : `Deleted: ${item.Deleted}`);
      if (result.errors.length) {
        for (const err of result.errors.slice(0, -1)) cli.stderr.write(`Error: ${err.message}\n`);
        const last = result.errors[result.errors.length - 1]!;
        throw new TsdockError(last.message, { exitCode: 1 });
      }
    });
}
