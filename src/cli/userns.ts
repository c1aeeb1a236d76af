import { spawn } from 'node:child_process';
import { readSubIds } from '../config/subids.js';
import { ensureHolder, holderFile } from './userns-holder.js';
import { helpAsked } from './verb.js';
/** the little of the CLI context this needs (bin/tsdock calls it before the CLI is even loaded) */
export interface UsernsIo {
  env: NodeJS.ProcessEnv;
  stderr: { write(s: string): unknown };
  warn(message: string): void;
}

/** Verbs that never touch the store run directly, without a user namespace. */
const NO_USERNS = new Set(['version', 'info', 'help', 'doctor']);

/**
 * Rootless: like `podman unshare`, tsdock re-executes itself inside a user namespace where the user is
 * root and its /etc/subuid and /etc/subgid ranges are mapped to ids 1..n (util-linux `unshare --map-auto
 * --map-root-user`, which uses newuidmap/newgidmap), the same one for every command: a holder process keeps it
 * (userns-holder.ts) and each command joins it with `nsenter --user --preserve-credentials`. Inside, layer files can be chowned to the image's
 * ids, so a file owned by uid 1000 in the image is owned by subuid_start+999 on the host.
 * Without subordinate ranges only the user itself is mapped (to 0) and other owners collapse to it.
 * Returns the child's exit code, or undefined when no re-exec is needed.
 */
/** a rootless command that touches the store, not yet inside tsdock's user namespace */
export function needsUserNamespace(verb: string | undefined, argv: string[], env: NodeJS.ProcessEnv): boolean {
  const uid = process.getuid?.() ?? 0;
  return !(uid === 0 || env.TSDOCK_USERNS || !verb || NO_USERNS.has(verb) || helpAsked(argv));
}

export async function maybeReexecInUserNamespace(verb: string | undefined, argv: string[], cli: UsernsIo): Promise<number | undefined> {
  if (!needsUserNamespace(verb, argv, cli.env)) return undefined;
  const uid = process.getuid?.() ?? 0;
  const full = readSubIds('/etc/subuid', uid).length > 0 && readSubIds('/etc/subgid', process.getgid?.() ?? uid).length > 0;
  if (!full) cli.warn(`no subordinate id ranges for uid ${uid} in /etc/subuid and /etc/subgid: using a single-id mapping, files owned by other users in images will be owned by you`);
  let holder: number;
  try {
    holder = await ensureHolder(holderFile(cli.env, uid), full);
  } catch (err) {
    cli.stderr.write(`Error: cannot create the rootless user namespace: ${(err as Error).message}\n`);
    return 125;
  }
  // join the one long-lived namespace (see userns-holder.ts); nsenter keeps our credentials, which map to root inside
  const args = ['-t', String(holder), '--user', '--preserve-credentials', '--', process.execPath, process.argv[1]!, ...argv];
  const child = spawn('nsenter', args, { stdio: 'inherit', env: { ...cli.env, TSDOCK_USERNS: full ? 'full' : 'single' } });
  const forward = (sig: NodeJS.Signals) => () => child.kill(sig);
  const handlers = (['SIGINT', 'SIGTERM', 'SIGHUP'] as const).map((s) => [s, forward(s)] as const);
  for (const [s, h] of handlers) process.on(s, h);
  return new Promise((resolve) => {
    child.on('error', (err) => {
      cli.stderr.write(`Error: cannot enter the user namespace with nsenter: ${err.message}\n`);
      resolve(125);
    });
    child.on('exit', (code, signal) => {
      for (const [s, h] of handlers) process.off(s, h);
      resolve(code ?? 128 + (signal ? signalNumber(signal) : 0));
    });
  });
}

function signalNumber(signal: NodeJS.Signals): number {
  const table: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15 };
  return table[signal] ?? 0;
}
