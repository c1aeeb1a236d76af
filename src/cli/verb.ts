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

/** verbs whose `-h` is `--hostname`, not help (docker's run and create) */
const HOSTNAME_H = new Set(['run', 'create']);

/**
 * Whether the command line asks for help: `--help` (or `-h` where it is not --hostname) among the flags before the
 * verb's first other argument. What follows an image or a container name is the container's command
 * (`run busybox httpd -h /www`), never tsdock's help; an option's value also ends the scan, which only means the
 * rare `run -e X=1 --help` asks for help from inside the user namespace.
 */
export function helpAsked(argv: string[]): boolean {
  const verb = findVerb(argv);
  if (verb === undefined) return argv.includes('--help') || argv.includes('-h');
  const at = argv.indexOf(verb);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (i === at) continue;
    if (arg === '--') return false;
    if (arg === '--help' || (arg === '-h' && !HOSTNAME_H.has(verb))) return true;
    if (i > at && !arg.startsWith('-')) return false;
  }
  return false;
}
