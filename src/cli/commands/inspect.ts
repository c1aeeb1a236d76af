import { Command, Option } from 'commander';
import type { CliContext } from '../context.js';
import { inspectImages } from '../../api/image-inspect.js';
import { inspectContainer } from '../../api/container-inspect.js';
import { renderInspect } from '../render/format.js';
import { NotFoundError, TsdockError } from '../../errors.js';

type ObjectType = 'container' | 'image';

/**
 * `inspect` (containers first, then images, as docker; `--type` picks one), `container inspect` and
 * `image inspect` share this: the parent command decides which object types a name may be.
 */
export function register(parent: Command, cli: CliContext, name = 'inspect'): void {
  const fixed: ObjectType | undefined = parent.name() === 'image' ? 'image' : parent.name() === 'container' ? 'container' : undefined;
  const cmd = parent
    .command(name)
    .description(fixed === 'container' ? 'Display detailed information on one or more containers' : fixed === 'image' ? 'Display detailed information on one or more images' : 'Return low-level information on tsdock objects')
    .argument('<name...>', 'names or IDs')
    .option('-f, --format <format>', "Format output using a custom template ('json' or a Go template)")
    .option('-s, --size', 'Display total file sizes (images always include Size)');
  if (!fixed) cmd.addOption(new Option('--type <type>', 'Return JSON for specified type').choices(['container', 'image']));
  cmd.action(async (names: string[], o: { format?: string; size?: boolean; type?: ObjectType }) => {
    const ctx = cli.api();
    const types: ObjectType[] = fixed ? [fixed] : o.type ? [o.type] : ['container', 'image'];
    const found: object[] = [];
    let failure: Error | undefined;
    for (const n of names) {
      try {
        found.push(await inspectOne(n, types, o.size));
      } catch (err) {
        failure = err as Error;
        cli.stderr.write(`Error: ${failure.message}\n`);
      }
    }
    renderInspect(cli, found, o.format);
    if (failure) throw new TsdockError('', { exitCode: 1, cause: failure }).silent();

    async function inspectOne(n: string, kinds: ObjectType[], size?: boolean): Promise<object> {
      for (const kind of kinds) {
        try {
          return kind === 'container' ? await inspectContainer(n, ctx, { size }) : (await inspectImages([n], ctx))[0]!;
        } catch (err) {
          if (!(err instanceof NotFoundError)) throw err;
        }
      }
      throw new NotFoundError(`No such ${kinds.length > 1 ? 'object' : kinds[0]}: ${n}`);
    }
  });
}
