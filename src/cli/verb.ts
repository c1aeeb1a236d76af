/** global flags that take a value (so their value is not mistaken for the verb) */
export const GLOBAL_WITH_VALUE = new Set(['--root', '--runroot', '--log-level', '--storage-driver']);

/** The verb is the first argument that is neither a global flag nor a global flag's value. */
export function findVerb(argv: string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (GLOBAL_WITH_VALUE.has(arg)) {
      i++;
      continue;
    }
    if (arg.startsWith('-')) continue;
    return arg;
  }
  return undefined;
}
