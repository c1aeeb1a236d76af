import { TsdockError } from '../../errors.js';
import type { CliContext } from '../context.js';

/**
 * docker's verbs over several containers (start, stop, kill, restart, pause, unpause, update): each argument in
 * turn, printed as given once done, a failure reported as `Error: ...` without stopping the others; exit 1 if any
 * failed.
 */
export async function forEachContainer(cli: CliContext, containers: string[], act: (ref: string) => Promise<unknown>): Promise<void> {
  let failed = false;
  for (const c of containers) {
    try {
      await act(c);
      cli.out(c);
    } catch (err) {
      failed = true;
      cli.stderr.write(`Error: ${(err as Error).message}\n`);
    }
  }
  if (failed) throw new TsdockError('', { exitCode: 1 }).silent();
}
