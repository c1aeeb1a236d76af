import { Command, Option } from 'commander';
import type { CliContext } from '../context.js';
import { collect } from './images.js';
import { layerProgress } from '../render/progress.js';
import type { ContainerRequest } from '../../container/prepare.js';

/** Flags shared by `run` and (later) `create`: docker's names and short forms. */
export function addContainerFlags(cmd: Command): Command {
  return cmd
    .option('-e, --env <KEY=VALUE>', 'Set environment variables', collect, [])
    .option('--env-file <file>', 'Read in a file of environment variables', collect, [])
    .option('-v, --volume <SRC:DST[:OPTS]>', 'Bind mount a volume', collect, [])
    .option('--mount <mount>', 'Attach a filesystem mount to the container (type=bind|volume|tmpfs,...)', collect, [])
    .option('--tmpfs <path[:opts]>', 'Mount a tmpfs directory', collect, [])
    .option('--read-only', "Mount the container's root filesystem as read only")
    .option('-w, --workdir <dir>', 'Working directory inside the container')
    .option('-u, --user <user[:group]>', 'Username or UID (format: <name|uid>[:<group|gid>])')
    .option('--entrypoint <cmd>', 'Overwrite the default ENTRYPOINT of the image')
    .option('--name <name>', 'Assign a name to the container')
    .option('-h, --hostname <name>', 'Container host name')
    .addOption(new Option('--network <mode>', 'Connect a container to a network').choices(['none', 'host']).default('none'))
    .addOption(new Option('--net <mode>', 'Alias of --network').choices(['none', 'host']).hideHelp())
    .option('--cap-add <cap>', 'Add Linux capabilities', collect, [])
    .option('--cap-drop <cap>', 'Drop Linux capabilities', collect, [])
    .option('--privileged', 'Give extended privileges to this container')
    .option('--security-opt <opt>', 'Security Options (no-new-privileges, seccomp=unconfined|PROFILE.json)', collect, [])
    .option('--ulimit <type=soft[:hard]>', 'Ulimit options', collect, [])
    .option('--init', 'Run an init inside the container that forwards signals and reaps processes')
    .option('--platform <platform>', 'Set platform if server is multi-platform capable')
    .addOption(new Option('--pull <policy>', 'Pull image before running').choices(['always', 'missing', 'never']).default('missing'))
    .option('-q, --quiet', 'Suppress the pull output')
    .option('-i, --interactive', 'Keep STDIN open even if not attached')
    .option('-t, --tty', 'Allocate a pseudo-TTY')
    .option('--tls-verify [bool]', 'Require HTTPS and verify certificates when pulling', (v: string | undefined) => v !== 'false');
}

/** commander's view of the flags: the container request (minus the positional command) plus run's own */
export interface RunFlags extends Omit<ContainerRequest, 'command'> {
  net?: 'none' | 'host';
  name?: string;
  platform?: string;
  pull: 'always' | 'missing' | 'never';
  quiet?: boolean;
  tlsVerify?: boolean;
  rm?: boolean;
}

export function register(program: Command, cli: CliContext): void {
  const cmd = program
    .command('run')
    .description('Create and run a new container from an image')
    .argument('<image>', 'image to run')
    .argument('[command...]', 'command and arguments')
    .option('--rm', 'Automatically remove the container when it exits')
    .helpOption('--help', 'Print usage')
    .passThroughOptions();
  addContainerFlags(cmd).action(async (image: string, command: string[], flags: RunFlags) => {
    const { runContainer } = await import('../../api/run.js');
    const ctx = cli.api();
    const progress = flags.quiet ? undefined : layerProgress(cli, cli.stderr);
    ctx.progress = progress?.onEvent;
    const result = await runContainer({ ...flags, network: flags.net ?? flags.network, image, command }, ctx);
    progress?.done();
    process.exitCode = result.exitCode;
  });
}
