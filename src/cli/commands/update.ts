import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { forEachContainer } from '../render/each.js';
import type { ResourceFlags } from '../../api/update.js';
import { addResourceFlags } from './run.js';

/** `update`: new resource limits for containers (running ones get them at once). */
export function register(program: Command, cli: CliContext): void {
  addResourceFlags(program.command('update').description('Update configuration of one or more containers').argument('<container...>', 'names or IDs'))
    .action(async (containers: string[], flags: ResourceFlags) => {
      const { updateContainer } = await import('../../api/update.js');
      const ctx = cli.api();
      await forEachContainer(cli, containers, (c) => updateContainer(c, flags, ctx));
    });
}
