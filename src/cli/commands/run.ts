import { Command, Option } from 'commander';
import type { CliContext } from '../context.js';
import { collect } from './images.js';
import { layerProgress } from '../render/progress.js';
import type { CreateOptions } from '../../api/create.js';
import type { AttachStream } from '../../api/run.js';
import { TsdockError } from '../../errors.js';
import type { ContainerRequest, HealthFlags } from '../../api/create.js';
import { boolFlag } from '../flag-values.js';

/** The cgroup limit flags `run`, `create` and `update` share (docker's names and short forms). */
export function addResourceFlags(cmd: Command): Command {
  return cmd
    .option('-m, --memory <bytes>', 'Memory limit')
    .option('--memory-swap <bytes>', "Swap limit equal to memory plus swap: '-1' to enable unlimited swap")
    .option('--memory-reservation <bytes>', 'Memory soft limit')
    .option('--cpus <number>', 'Number of CPUs')
    .option('-c, --cpu-shares <n>', 'CPU shares (relative weight)')
    .option('--cpu-period <us>', 'Limit CPU CFS (Completely Fair Scheduler) period')
    .option('--cpu-quota <us>', 'Limit CPU CFS (Completely Fair Scheduler) quota')
    .option('--cpuset-cpus <list>', 'CPUs in which to allow execution (0-3, 0,1)')
    .option('--cpuset-mems <list>', 'MEMs in which to allow execution (0-3, 0,1)')
    .option('--pids-limit <n>', 'Tune container pids limit (set -1 for unlimited)')
    .option('--blkio-weight <n>', 'Block IO (relative weight), between 10 and 1000, or 0 to disable');
}

/** Flags shared by `run` and `create`: docker's names and short forms. */
export function addContainerFlags(cmd: Command): Command {
  cmd
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
    .option('--cgroup-parent <path>', 'Optional parent cgroup for the container')
    .option('--oom-score-adj <n>', "Tune host's OOM preferences (-1000 to 1000)")
    .option('--platform <platform>', 'Set platform if server is multi-platform capable')
    .addOption(new Option('--pull <policy>', 'Pull image before running').choices(['always', 'missing', 'never']).default('missing'))
    .option('-q, --quiet', 'Suppress the pull output')
    .option('-i, --interactive', 'Keep STDIN open even if not attached')
    .option('-t, --tty', 'Allocate a pseudo-TTY')
    .option('--tls-verify [bool]', 'Require HTTPS and verify certificates when pulling', boolFlag)
    .option('-l, --label <key=value>', 'Set meta data on a container', collect, [])
    .option('--restart <policy>', 'Restart policy to apply when a container exits (no, on-failure[:max-retries], always, unless-stopped)')
    .option('--log-opt <key=value>', 'Log driver options (max-size)', collect, [])
    .option('--memory-swappiness <n>', 'Tune container memory swappiness (0 to 100)');
  return addResourceFlags(cmd)
    .option('--health-cmd <command>', 'Command to run to check health')
    .option('--health-interval <duration>', 'Time between running the check (ms|s|m|h) (default 30s)')
    .option('--health-timeout <duration>', 'Maximum time to allow one check to run (ms|s|m|h) (default 30s)')
    .option('--health-retries <n>', 'Consecutive failures needed to report unhealthy')
    .option('--health-start-period <duration>', 'Start period for the container to initialize before failures count (ms|s|m|h)')
    .option('--no-healthcheck', 'Disable any container-specified HEALTHCHECK');
}

/** `--label a=b` / `--log-opt k=v` lists as maps */
export function keyValues(list: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const kv of list) {
    const i = kv.indexOf('=');
    out[i < 0 ? kv : kv.slice(0, i)] = i < 0 ? '' : kv.slice(i + 1);
  }
  return out;
}

/** commander's flags → the api's create options */
export function createOptions(image: string, command: string[], flags: RunFlags): CreateOptions {
  return { ...flags, network: flags.net ?? flags.network, image, command, labels: keyValues(flags.label), logOpts: keyValues(flags.logOpt) };
}

/** commander's view of the flags: the container request (minus the positional command) plus run's own */
export interface RunFlags extends Omit<ContainerRequest, 'command'>, HealthFlags {
  net?: 'none' | 'host';
  name?: string;
  platform?: string;
  pull: 'always' | 'missing' | 'never';
  quiet?: boolean;
  tlsVerify?: boolean;
  rm?: boolean;
  detach?: boolean;
  label: string[];
  restart?: string;
  logOpt: string[];
  attach: string[];
}

/** `-a stdin|stdout|stderr` (docker's, any case) → the streams; none given = all of them */
export function attachStreams(list: string[], detach: boolean | undefined): AttachStream[] | undefined {
  if (list.length === 0) return undefined;
  if (detach) throw new TsdockError('Conflicting options: -a and -d', { exitCode: 125 });
  return list.map((s) => {
    const v = s.toLowerCase();
    if (v !== 'stdin' && v !== 'stdout' && v !== 'stderr') throw new TsdockError(`invalid argument "${s}" for "-a, --attach" flag: valid streams are STDIN, STDOUT and STDERR`, { exitCode: 125 });
    return v;
  });
}

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
  addContainerFlags(cmd).action(async (image: string, command: string[], flags: RunFlags) => {
    const ctx = cli.api();
    const attach = attachStreams(flags.attach, flags.detach);
    const progress = flags.quiet ? undefined : layerProgress(cli, cli.stderr);
    ctx.progress = progress?.onEvent;
    if (flags.detach) {
      const { runDetached } = await import('../../api/run-detached.js');
      const id = await runDetached(createOptions(image, command, flags), ctx);
      progress?.done();
      cli.out(id);
      return;
    }
    const { runContainer } = await import('../../api/run.js');
    const result = await runContainer({ ...createOptions(image, command, flags), attach }, ctx);
    progress?.done();
    process.exitCode = result.exitCode;
  });
}
