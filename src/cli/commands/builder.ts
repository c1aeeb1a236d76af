import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { confirm } from '../render/confirm.js';
import { humanSize } from '../render/units.js';
import { collect } from '../opts/flags.js';
import { bytesFlag } from '../opts/values.js';
import { pruneBuildCache } from '../../api/builder-prune.js';

/** `tsdock builder prune`: the build cache in images.json (docker's `builder` management command). */
export function register(program: Command, cli: CliContext): void {
  const builder = program.command('builder').description('Manage builds');
  builder
    .command('prune')
    .description('Remove build cache')
    .option('-a, --all', 'Remove all unused build cache, not just dangling ones')
    .option('--filter <filter>', "Provide filter values (e.g. 'until=24h')", collect, [])
    .option('--keep-storage <bytes>', 'Amount of disk space to keep for cache')
    .option('-f, --force', 'Do not prompt for confirmation')
    .action(async (o: { all?: boolean; force?: boolean; filter: string[]; keepStorage?: string }) => {
      const keepStorage = o.keepStorage === undefined ? undefined : bytesFlag(o.keepStorage, '--keep-storage');
      const warning = o.all ? 'WARNING! This will remove all build cache.' : 'WARNING! This will remove all dangling build cache.';
      if (!o.force && !(await confirm(cli, warning))) return;
      const r = await pruneBuildCache({ all: o.all, filters: o.filter, keepStorage }, cli.api());
      if (r.deleted.length) cli.out(`Deleted build cache objects:\n${r.deleted.join('\n')}\n\n`);
      cli.out(`Total reclaimed space: ${humanSize(r.reclaimed, 4)}`);
    });
}
