import { Command, Option } from 'commander';
import type { CliContext } from '../context.js';
import { inspectImages } from '../../api/image-inspect.js';
import { renderInspect } from '../render/format.js';
import { TsdockError } from '../../errors.js';

/** `inspect` (any object type; images for now) and `image inspect` share this. */
export function register(parent: Command, cli: CliContext, name = 'inspect'): void {
  const cmd = parent
    .command(name)
    .description('Return low-level information on tsdock objects')
    .argument('<name...>', 'names or IDs')
    .option('-f, --format <format>', "Format output using a custom template ('json' or a Go template)")
    .option('-s, --size', 'Display total file sizes (images always include Size)');
  if (name === 'inspect') cmd.addOption(new Option('--type <type>', 'Return JSON for specified type').choices(['image']));
  cmd.action(async (names: string[], o: { format?: string }) => {
    const ctx = cli.api();
    const found: object[] = [];
    let failure: Error | undefined;
    for (const n of names) {
      try {
        found.push(...(await inspectImages([n], ctx)));
      } catch (err) {
        failure = err as Error;
        cli.stderr.write(`Error: ${failure.message.replace(/^No such image/, 'No such object')}\n`);
      }
    }
    renderInspect(cli, found, o.format);
    if (failure) throw new TsdockError('', { exitCode: 1, cause: failure }).silent();
  });
}
