import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { forEachContainer } from '../render/each.js';
import { addResourceFlags, type ResourceFlagValues } from '../opts/flags.js';
import { resourceFields } from '../opts/container.js';

/** `update`: new resource limits for containers (running ones get them at once). */
export function register(program: Command, cli: CliContext): void {
  addResourceFlags(program.command('update').description('Update configuration of one or more containers').argument('<container...>', 'names or IDs'))
    .action(async (containers: string[], flags: ResourceFlagValues) => {
      const update = resourceFields(flags);
      const { updateContainer } = await import('../../api/update.js');
      const ctx = cli.api();
      await forEachContainer(cli, containers, (c) => updateContainer(c, update, ctx));
    });
}
