import { Command } from 'commander';
import type { CliContext } from '../context.js';
import { requestEnv } from '../opts/env.js';
import { collect } from './images.js';

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
    .helpOption('--help', 'Print usage')
    .passThroughOptions()
    .action(async (container: string, command: string[], o: { interactive?: boolean; tty?: boolean; detach?: boolean; env: string[]; envFile: string[]; workdir?: string; user?: string; privileged?: boolean }) => {
      const { envFile, ...rest } = o;
      const env = requestEnv({ env: o.env, envFile }, { cwd: process.cwd(), env: cli.env });
      const { execInContainer } = await import('../../api/exec.js');
      process.exitCode = await execInContainer({ container, command, ...rest, env }, cli.api());
    });
}
