import { Command } from 'commander';
import type { CliContext } from '../context.js';
import { copyFromContainer, copyToContainer, splitCopyArg } from '../../api/cp.js';
import { UsageError } from '../../errors.js';

export function register(parent: Command, cli: CliContext, name = 'cp'): void {
  parent
    .command(name)
    .description('Copy files/folders between a container and the local filesystem')
    .usage('[OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n       tsdock cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH')
    .argument('<src>', 'CONTAINER:SRC_PATH, a host path, or - (a tar on stdin)')
    .argument('<dest>', 'CONTAINER:DEST_PATH, a host path, or - (a tar on stdout)')
    .option('-a, --archive', 'Archive mode (copy all uid/gid information)')
    .option('-L, --follow-link', 'Always follow symbol link in SRC_PATH')
    .option('-q, --quiet', 'Suppress progress output during copy (tsdock prints none)')
    .action(async (src: string, dest: string, o: { archive?: boolean; followLink?: boolean }) => {
      const from = splitCopyArg(src);
      const to = splitCopyArg(dest);
      if (from && to) throw new UsageError('copying between containers is not supported');
      if (!from && !to) throw new UsageError('must specify at least one container source');
      const ctx = cli.api();
      if (from) {
        await copyFromContainer({ container: from.container, srcPath: from.path, dest, out: cli.stdout, archive: o.archive, followLink: o.followLink }, ctx);
      } else {
        await copyToContainer({ container: to!.container, src, dstPath: to!.path, input: src === '-' ? ctx.stdin : undefined, archive: o.archive, followLink: o.followLink }, ctx);
      }
    });
}
