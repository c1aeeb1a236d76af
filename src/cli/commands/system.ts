import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { confirm } from '../render/confirm.js';
import { humanSize } from '../render/units.js';
import { collect } from '../opts/flags.js';
import { register as registerInfo } from './info.js';
import { register as registerEvents } from './events.js';

/** `tsdock system df|prune|info|reset`: docker's system management command. */
export function register(program: Command, cli: CliContext): void {
  const system = program.command('system').description('Manage tsdock');

  system
    .command('df')
    .description('Show tsdock disk usage')
    .option('-v, --verbose', 'Show detailed information on space usage')
    .option('--format <format>', "Format output using a custom template: 'table', 'table TEMPLATE', 'json', 'TEMPLATE'")
    .action(async (o: { verbose?: boolean; format?: string }) => {
      const { systemDf } = await import('../../api/system-df.js');
      const { renderDiskUsage } = await import('../render/disk-usage.js');
      renderDiskUsage(cli, await systemDf(cli.api()), o);
    });

  system
    .command('prune')
    .description('Remove unused data')
    .option('-a, --all', 'Remove all unused images not just dangling ones (and all build cache; with --volumes every unused volume)')
    .option('--volumes', 'Prune anonymous volumes')
    .option('--filter <filter>', "Provide filter values (e.g. 'label=<key>=<value>')", collect, [])
    .option('-f, --force', 'Do not prompt for confirmation')
    .action(async (o: { all?: boolean; volumes?: boolean; filter: string[]; force?: boolean }) => {
      const { pruneSystem } = await import('../../api/system-prune.js');
      const { familiarTag } = await import('../../api/rmi.js');
      if (!o.force && !(await confirm(cli, pruneWarning(o)))) return;
      const r = await pruneSystem({ all: o.all, volumes: o.volumes, filters: o.filter }, cli.api());
      const section = (title: string, items: string[]) => items.length && cli.out(`${title}\n${items.join('\n')}\n\n`);
      section('Deleted Containers:', r.containers.deleted);
      section('Deleted Networks:', r.networks);
      section('Deleted Volumes:', r.volumes?.deleted ?? []);
      section('Deleted Images:', [...r.images.untagged.map((t) => `untagged: ${familiarTag(t)}`), ...r.images.deleted.map((d) => `deleted: ${d}`)]);
      section('Deleted build cache objects:', r.buildCache.deleted);
      cli.out(`Total reclaimed space: ${humanSize(r.reclaimed, 4)}`);
    });

  registerInfo(system, cli);
  registerEvents(system, cli);

  system
    .command('reset')
    .description('Remove all containers, images, volumes, networks and build cache of this store')
    .option('-f, --force', 'Do not prompt for confirmation')
    .action(async (o: { force?: boolean }) => {
      const { resetSystem } = await import('../../api/system-reset.js');
      const warning = `WARNING! this will remove all containers, images, volumes, networks and build cache\n  (everything under ${cli.api({ open: false }).root})`;
      if (!o.force && !(await confirm(cli, warning))) return;
      await resetSystem(cli.api());
    });
}

/** docker's confirmation of `system prune`: what goes, and the filters it goes by. */
export function pruneWarning(o: { all?: boolean; volumes?: boolean; filter: string[] }): string {
  const warnings = ['all stopped containers', 'all networks not used by at least one container'];
  if (o.volumes) warnings.push(o.all ? 'all volumes not used by at least one container' : 'all anonymous volumes not used by at least one container');
  warnings.push(o.all ? 'all images without at least one container associated to them' : 'all dangling images');
  warnings.push(o.all ? 'all build cache' : 'unused build cache');
  const filters = [...o.filter].sort();
  const filterPart = filters.length ? `\n  Items to be pruned will be filtered with:\n${filters.map((f) => `  - ${f}\n`).join('')}` : '';
  return `WARNING! This will remove:\n${warnings.map((w) => `  - ${w}\n`).join('')}${filterPart}`;
}
