import { CommanderError } from 'commander';
import { LookupError, TsdockError } from '../errors.js';
import { DirectorySetupError } from '../config/dirs.js';
import type { CliContext } from './context.js';

/** Verbs whose engine errors exit 125 (docker's run/create; exec/attach/start as podman, whose tests we keep). */
const RUN_VERBS = new Set(['run', 'create', 'start', 'exec', 'attach']);
/** docker's run and create: every daemon error, a missing image included, is a 125. */
const CREATE_VERBS = new Set(['run', 'create']);

/**
 * The exit code is decided by the error's kind and the verb, never by where it was thrown:
 * - a flag error (commander) or an unusable store/runtime dir: 125 for every verb;
 * - "no such" (LookupError: NotFoundError, an ambiguous id prefix): 1, as docker's `inspect`/`rm`/`start`/`logs`/`exec`, but
 *   125 in run/create;
 * - the container's own failures (126 cannot execute, 127 not found, an exit status): as carried;
 * - any other engine error: 125 in RUN_VERBS, 1 elsewhere.
 */
export function exitCodeFor(err: unknown, verb?: string): number {
  if (err instanceof DirectorySetupError) return 125;
  if (err instanceof LookupError) return verb !== undefined && CREATE_VERBS.has(verb) ? 125 : 1;
  const code = err instanceof TsdockError ? err.exitCode : 125;
  return code === 125 && verb !== undefined && !RUN_VERBS.has(verb) ? 1 : code;
}

/** One line on stderr, `Error: ...`, and the kind's exit code (exitCodeFor); a stack only with --log-level debug. */
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
  // withCleanup attached the cleanup's own failure: the debug log shows it
  const suppressed = (err as { suppressed?: unknown } | undefined)?.suppressed;
  if (suppressed !== undefined) cli.debugLog(`cleanup after the error also failed: ${suppressed instanceof Error ? suppressed.message : String(suppressed)}`);
  return exitCodeFor(err, verb);
}

function firstLine(message: string): string {
  const line = message.split('\n')[0]!.trim();
  return line.length > 0 ? line : 'unknown error';
}
