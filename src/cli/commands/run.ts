import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { layerProgress } from '../render/progress.js';
import { addContainerFlags, collect, type ContainerFlagValues } from '../opts/flags.js';
import { createOptions } from '../opts/container.js';

export function register(program: Command, cli: CliContext): void {
  const cmd = program
    .command('run')
    .description('Create and run a new container from an image')
    .argument('<image>', 'image to run')
    .argument('[command...]', 'command and arguments')
    .option('--rm', 'Automatically remove the container when it exits')
    .option('-d, --detach', 'Run container in background and print container ID')
    .option('-a, --attach <stream>', 'Attach to STDIN, STDOUT or STDERR', collect, [])
    .helpOption('--help', 'Print usage')
    .passThroughOptions();
  addContainerFlags(cmd).action(async (image: string, command: string[], flags: ContainerFlagValues) => {
    const opts = createOptions(image, command, flags, { cwd: process.cwd(), env: cli.env });
    const ctx = cli.api();
    const progress = flags.quiet ? undefined : layerProgress(cli, 'stderr');
    ctx.progress = progress?.onEvent;
    if (flags.detach) {
      const { runDetached } = await import('../../api/run-detached.js');
      const id = await runDetached(opts, ctx);
      progress?.done();
      cli.out(id);
      return;
    }
    const { runContainer } = await import('../../api/run.js');
    const result = await runContainer(opts, ctx);
    progress?.done();
    process.exitCode = result.exitCode;
  });
}
