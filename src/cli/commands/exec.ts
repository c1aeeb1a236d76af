import { Command } from 'commander';
import { TsdockError } from '../../errors.js';
import type { CliContext } from '../context.js';
import { requestEnv } from '../opts/env.js';
import { uintFlag } from '../opts/values.js';
import { collect } from '../opts/flags.js';

export function register(program: Command, cli: CliContext): void {
  program
    .command('exec')
    .description('Execute a command in a running container')
    .argument('<container>', 'name or ID')
    .argument('<command...>', 'command and arguments')
    .option('-i, --interactive', 'Keep STDIN open even if not attached')
    .option('-t, --tty', 'Allocate a pseudo-TTY')
    .option('-d, --detach', 'Detached mode: run command in the background')
    .option('-e, --env <KEY=VALUE>', 'Set environment variables', collect, [])
    .option('--env-file <file>', 'Read in a file of environment variables', collect, [])
    .option('-w, --workdir <dir>', 'Working directory inside the container')
    .option('-u, --user <user[:group]>', 'Username or UID (format: <name|uid>[:<group|gid>])')
    .option('--privileged', 'Give extended privileges to the command')
    .option('--preserve-fds <n>', 'Pass down to the process N additional file descriptors (3 to 3+N-1)', (v: string) => uintFlag(v, '--preserve-fds'))
    .helpOption('--help', 'Print usage')
    .passThroughOptions()
    .action(async (container: string, command: string[], o: { interactive?: boolean; tty?: boolean; detach?: boolean; env: string[]; envFile: string[]; workdir?: string; user?: string; privileged?: boolean; preserveFds?: number }) => {
      const { envFile, ...rest } = o;
      if (o.preserveFds) passedByCaller(o.preserveFds, cli.env.TSDOCK_FDS);
      const env = requestEnv({ env: o.env, envFile }, { cwd: process.cwd(), env: cli.env });
      const { execInContainer } = await import('../../api/exec.js');
      process.exitCode = await execInContainer({ container, command, ...rest, env }, cli.api());
    });
}

/**
 * --preserve-fds N: fds 3..3+N-1 must be the caller's. bin/tsdock's sh line lists the ones it was given (3-9) in
 * TSDOCK_FDS before Node starts; any other open fd there is Node's own and must not reach a container.
 */
function passedByCaller(n: number, listed: string | undefined): void {
  const given = new Set((listed ?? '').split(',').filter(Boolean).map(Number));
  for (let fd = 3; fd < 3 + n; fd++)
    if (!given.has(fd)) throw new TsdockError(`file descriptor ${fd} is not available - the preserve-fds option requires that all file descriptors must be passed`, { exitCode: 125 });
}
