import { Command, CommanderError, Option } from 'commander';
import { CliContext } from './context.js';
import { commands, findCommand } from './commands/index.js';
import { reportError } from './errors.js';
import { maybeReexecInUserNamespace } from './userns.js';
import { VERSION } from '../version.js';
import { findVerb } from './verb.js';

export { findVerb };

export function buildProgram(cli: CliContext): Command {
  const program = new Command('tsdock')
    .description('A daemonless container engine')
    .version(VERSION, '-v, --version', 'Print version information and quit')
    .addOption(new Option('--root <dir>', 'Storage root directory'))
    .addOption(new Option('--runroot <dir>', 'Runtime state directory'))
    .addOption(new Option('--storage-driver <driver>', 'Container rootfs driver: overlay, or vfs (a private copy per container)'))
    .addOption(new Option('--log-level <level>', 'Log level').choices(['debug', 'info', 'warn', 'error']).default('warn'))
    .helpOption('-h, --help', 'Print usage')
    .addHelpCommand(false)
    // docker semantics: flags after `run IMAGE` belong to the container's command
    .enablePositionalOptions()
    .showSuggestionAfterError(false)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => cli.stdout.write(s),
      writeErr: (s) => cli.stderr.write(s),
      outputError: () => {},
    });
  program.hook('preAction', (thisCommand) => {
    cli.global = thisCommand.opts();
  });
  return program;
}

/** this process's stdio for the CLI, each stream made when first used */
function processIo(): ConstructorParameters<typeof CliContext>[0] {
  return {
    get stdout() {
      return process.stdout;
    },
    get stderr() {
      return process.stderr;
    },
    env: process.env,
    process: true,
  };
}

export async function main(argv: string[], cli = new CliContext(processIo())): Promise<void> {
  // `tsdock help VERB` is `tsdock VERB --help`
  if (findVerb(argv) === 'help') argv = [...argv.filter((a) => a !== 'help'), '--help'];
  const verb = findVerb(argv);
  if (argv.includes('--log-level') && argv[argv.indexOf('--log-level') + 1] === 'debug') cli.global.logLevel = 'debug';
  try {
    const reexec = await maybeReexecInUserNamespace(verb, argv, cli);
    if (reexec !== undefined) {
      process.exitCode = reexec;
      return;
    }
    const program = buildProgram(cli);
    const entry = verb ? findCommand(verb) : undefined;
    if (entry) {
      const mod = await entry.load();
      await mod.register(program, cli);
    } else {
      for (const c of commands) program.command(c.name).description(c.summary);
      if (verb) throw new CommanderError(125, 'tsdock.unknownCommand', `unknown command "${verb}" for "tsdock"`);
    }
    if (argv.length === 0) {
      program.outputHelp();
      return;
    }
    process.once('SIGINT', () => cli.abort.abort(new Error('interrupted')));
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    process.exitCode = reportError(err, cli, verb);
  }
}
