import { Command } from 'commander';
import type { CliContext } from '../context.js';
import { tagImage } from '../../api/tag.js';

export function register(parent: Command, cli: CliContext, name = 'tag'): void {
  parent
    .command(name)
    .description('Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE')
    .argument('<source>', 'SOURCE_IMAGE[:TAG]')
    .argument('<target>', 'TARGET_IMAGE[:TAG]')
    .action(async (source: string, target: string) => {
      await tagImage({ source, target }, cli.api());
    });
}
