import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { forEachContainer } from '../render/each.js';

/** `pause` and `unpause`: freeze or thaw every process of the containers (cgroup freezer). */
export function register(program: Command, cli: CliContext, name = 'pause'): void {
  program
    .command(name)
    .description(name === 'pause' ? 'Pause all processes within one or more containers' : 'Unpause all processes within one or more containers')
    .argument('<container...>', 'names or IDs')
    .action(async (containers: string[]) => {
      const api = await import('../../api/pause.js');
      const ctx = cli.api();
      await forEachContainer(cli, containers, (c) => (name === 'pause' ? api.pauseContainer(c, ctx) : api.unpauseContainer(c, ctx)));
    });
}
