import { Command } from 'commander';
import type { CliContext } from '../context.js';
import { pruneImages } from '../../api/image-prune.js';
import { humanSize } from '../render/units.js';
import { familiarTag } from '../../api/rmi.js';
import { confirm } from '../render/confirm.js';
import { collect } from '../opts/flags.js';

/** `tsdock image <verb>`: docker's management-command spellings of the image verbs. */
export async function register(program: Command, cli: CliContext): Promise<void> {
  const image = program.command('image').description('Manage images');
  const subs: Array<[string, () => Promise<{ register: (p: Command, c: CliContext, n: string) => void }>, string[]]> = [
    ['pull', () => import('./pull.js'), []],
    ['push', () => import('./push.js'), []],
    ['ls', () => import('./images.js'), ['list']],
    ['rm', () => import('./rmi.js'), ['remove']],
    ['tag', () => import('./tag.js'), []],
    ['inspect', () => import('./inspect.js'), []],
    ['history', () => import('./history.js'), []],
    ['save', () => import('./save.js'), []],
    ['load', () => import('./load.js'), []],
    ['import', () => import('./import.js'), []],
    ['build', () => import('./build.js'), []],
  ];
  for (const [name, load, aliases] of subs) {
    (await load()).register(image, cli, name);
    const cmd = image.commands.find((c) => c.name() === name);
    for (const a of aliases) cmd?.alias(a);
  }
  image
    .command('prune')
    .description('Remove unused images')
    .option('-a, --all', 'Remove all unused images, not just dangling ones (and the build cache entries left dangling)')
    .option('--filter <filter>', "Provide filter values (e.g. 'until=<timestamp>', 'label=<key>=<value>')", collect, [])
    .option('-f, --force', 'Do not prompt for confirmation')
    .action(async (o: { all?: boolean; force?: boolean; filter: string[] }) => {
      const warning = o.all ? 'WARNING! This will remove all images without at least one container associated to them.' : 'WARNING! This will remove all dangling images.';
      if (!o.force && !(await confirm(cli, warning))) return;
      const r = await pruneImages({ all: o.all, filters: o.filter }, cli.api());
      if (r.untagged.length || r.deleted.length) {
        cli.out('Deleted Images:');
        for (const t of r.untagged) cli.out(`untagged: ${familiarTag(t)}`);
        for (const d of r.deleted) cli.out(`deleted: ${d}`);
        cli.out('');
      }
      cli.out(`Total reclaimed space: ${humanSize(r.reclaimed, 4)}`);
    });
}
