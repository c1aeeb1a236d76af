import { CommanderError } from 'commander';
import { TsdockError } from '../errors.js';
import { DirectorySetupError } from '../config/dirs.js';
import type { CliContext } from './context.js';

/** One line on stderr, `Error: ...`, and docker's exit code; a stack only with --log-level debug. */
const RUN_VERBS = new Set(['run', 'create', 'start', 'exec', 'attach']);

export function reportError(err: unknown, cli: CliContext, verb?: string): number {
  if (err instanceof CommanderError) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
    const message = err.message.replace(/^error: /, '');
    cli.stderr.write(`Error: ${message}\n`);
    return 125;
  }
  if (err instanceof TsdockError && err.isSilent) return err.exitCode;
  const message = err instanceof Error ? err.message : String(err);
  cli.stderr.write(`Error: ${firstLine(message)}\n`);
  if (cli.debug && err instanceof Error && err.stack) cli.stderr.write(`${err.stack}\n`);
  // docker: run-like verbs use 125 for engine errors; every other verb fails with 1
  const code = err instanceof TsdockError ? err.exitCode : 125;
  // an unusable store or runtime dir is an engine error for every verb
  if (err instanceof DirectorySetupError) return 125;
  return code === 125 && verb !== undefined && !RUN_VERBS.has(verb) ? 1 : code;
}

function firstLine(message: string): string {
  const line = message.split('\n')[0]!.trim();
  return line.length > 0 ? line : 'unknown error';
}
