import { Command } from 'commander';
import type { CliContext } from '../context.js';
import { importImage } from '../../api/import.js';
import { collect } from '../opts/flags.js';

export function register(parent: Command, cli: CliContext, name = 'import'): void {
  parent
    .command(name)
    .description('Import the contents from a tarball to create a filesystem image')
    .argument('<source>', 'file|URL|- (a root file system tarball, plain or compressed)')
    .argument('[repository]', 'REPOSITORY[:TAG] for the new image')
    .option('-c, --change <instruction>', 'Apply Dockerfile instruction to the created image', collect, [])
    .option('-m, --message <message>', 'Set commit message for imported image')
    .option('--platform <platform>', "Set platform if server is multi-platform capable (the host's only)")
    .action(async (source: string, repository: string | undefined, o: { change: string[]; message?: string; platform?: string }) => {
      cli.out(await importImage({ source, reference: repository, changes: o.change, message: o.message, platform: o.platform }, cli.api()));
    });
}
