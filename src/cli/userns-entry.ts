/**
 * A tiny bundle entry (dist/bundle/userns.cjs) that bin/tsdock runs before loading the CLI: a rootless
 * command re-executes inside its user namespace without first loading and compiling the whole CLI in the
 * outer process (rootless `run` ~40 ms faster). main.ts keeps the same check for other entry points.
 */
import { findVerb } from './verb.js';
import { maybeReexecInUserNamespace, needsUserNamespace } from './userns.js';

export function reexec(argv: string[]): Promise<number | undefined> | undefined {
  const verb = findVerb(argv);
  if (!needsUserNamespace(verb, argv, process.env)) return undefined;
  return maybeReexecInUserNamespace(verb, argv, {
    env: process.env,
    stderr: process.stderr,
    warn: (m) => process.stderr.write(`WARN: ${m}\n`),
  });
}
