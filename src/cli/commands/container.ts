import { Command } from 'commander';
import type { CliContext } from '../context.js';
import { confirm } from '../render/confirm.js';
import { pruneContainers } from '../../api/container-prune.js';
import { humanSize } from '../render/units.js';

type SubModule = { register: (p: Command, c: CliContext, n: string) => void };

/** `tsdock container <verb>`: docker's management-command spellings of the container verbs. */
export async function register(program: Command, cli: CliContext): Promise<void> {
  const container = program.command('container').description('Manage containers');
  const subs: Array<[string, () => Promise<SubModule>, string[]]> = [
    ['ls', () => import('./ps.js'), ['list', 'ps']],
    ['rm', () => import('./rm.js'), ['remove']],
    ['inspect', () => import('./inspect.js'), []],
    ['logs', () => import('./logs.js'), []],
    ['wait', () => import('./wait.js'), []],
    ['rename', () => import('./rename.js'), []],
    ['create', () => import('./create.js'), []],
    ['start', () => import('./start.js'), []],
    ['stop', () => import('./stop.js'), []],
    ['kill', () => import('./stop.js'), []],
    ['restart', () => import('./stop.js'), []],
    ['exec', () => import('./exec.js'), []],
    ['attach', () => import('./attach.js'), []],
    ['run', () => import('./run.js'), []],
    ['cp', () => import('./cp.js'), []],
    ['diff', () => import('./diff.js'), []],
    ['export', () => import('./export.js'), []],
    ['commit', () => import('./commit.js'), []],
    ['top', () => import('./top.js'), []],
    ['stats', () => import('./stats.js'), []],
    ['update', () => import('./update.js'), []],
    ['pause', () => import('./pause.js'), []],
    ['unpause', () => import('./pause.js'), []],
  ];
  for (const [name, load, aliases] of subs) {
    (await load()).register(container, cli, name);
    const cmd = container.commands.find((c) => c.name() === name);
    for (const a of aliases) cmd?.alias(a);
  }
  // run by a container's monitor after it exits (docs/lifecycle-design.md): --rm and restart policies
  container
    .command('cleanup', { hidden: true })
    .argument('<id>')
    .action(async (id: string) => {
      const { cleanupContainer } = await import('../../api/cleanup.js');
      await cleanupContainer(id, cli.api({ existing: true }));
    });
  // run by a container's monitor every health interval
  container
    .command('healthcheck', { hidden: true })
    .argument('<id>')
    .action(async (id: string) => {
      const { runHealthcheck } = await import('../../api/healthcheck.js');
      const probe = await runHealthcheck(id, cli.api({ existing: true }));
      if (probe && probe.ExitCode !== 0) process.exitCode = 1;
    });
  container
    .command('prune')
    .description('Remove all stopped containers')
    .option('--filter <filter>', "Provide filter values (e.g. 'until=<timestamp>', 'label=<key>=<value>')", (v: string, p: string[]) => [...p, v], [])
    .option('-f, --force', 'Do not prompt for confirmation')
    .action(async (o: { filter: string[]; force?: boolean }) => {
      if (!o.force && !(await confirm(cli, 'WARNING! This will remove all stopped containers.'))) return;
      const r = await pruneContainers({ filters: o.filter }, cli.api());
      if (r.deleted.length) {
        cli.out('Deleted Containers:');
        for (const id of r.deleted) cli.out(id);
        cli.out('');
      }
      // docker: units.HumanSize, 4 significant digits
      cli.out(`Total reclaimed space: ${humanSize(r.reclaimed, 4)}`);
    });
}

