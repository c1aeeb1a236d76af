import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { layerProgress } from '../render/progress.js';
import { addContainerFlags, type ContainerFlagValues } from '../opts/flags.js';
import { createOptions } from '../opts/container.js';

export function register(program: Command, cli: CliContext): void {
  const cmd = program
    .command('create')
    .description('Create a new container')
    .argument('<image>', 'image to create the container from')
    .argument('[command...]', 'command and arguments')
    .option('--rm', 'Automatically remove the container when it exits')
    .helpOption('--help', 'Print usage')
    .passThroughOptions();
  addContainerFlags(cmd).action(async (image: string, command: string[], flags: ContainerFlagValues) => {
    const opts = createOptions(image, command, flags, { cwd: process.cwd(), env: cli.env });
    const { createContainer } = await import('../../api/create.js');
    const ctx = cli.api();
    const progress = flags.quiet ? undefined : layerProgress(cli, 'stderr');
    ctx.progress = progress?.onEvent;
    const { paths } = await createContainer(opts, ctx);
    progress?.done();
    cli.out(paths.id);
  });
}
