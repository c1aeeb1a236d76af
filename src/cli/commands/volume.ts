import { Command, InvalidArgumentError, Option } from 'commander';
import type { CliContext } from '../context.js';
import { confirm } from '../render/confirm.js';
import { createVolume, inspectVolume, listVolumes, pruneVolumes, removeVolumes } from '../../api/volume.js';
import { renderInspect, renderList } from '../render/format.js';
import { humanSize } from '../render/units.js';
import { TsdockError, UsageError } from '../../errors.js';
import { collect } from '../opts/flags.js';

const HEADERS = {
  Name: 'VOLUME NAME',
  Driver: 'DRIVER',
  Scope: 'SCOPE',
  Mountpoint: 'MOUNTPOINT',
  Labels: 'LABELS',
  Links: 'LINKS',
  Size: 'SIZE',
  Group: 'GROUP',
  Availability: 'AVAILABILITY',
  Status: 'STATUS',
};

const PRUNE_WARNING = 'WARNING! This will remove anonymous local volumes not used by at least one container.';
const PRUNE_ALL_WARNING = 'WARNING! This will remove all local volumes not used by at least one container.';

/** `tsdock volume create|ls|inspect|rm|prune`. */
export function register(program: Command, cli: CliContext): void {
  const volume = program.command('volume').description('Manage volumes');

  volume
    .command('create')
    .description('Create a volume')
    .argument('[name]', 'volume name (default: a random 64-hex name)')
    .option('-d, --driver <driver>', 'Specify volume driver name', 'local')
    .option('--label <label>', 'Set metadata for a volume', collectLabel, [])
    .option('-o, --opt <opt>', 'Set driver specific options', collect, [])
    .addOption(new Option('--name <name>', 'Specify volume name').hideHelp())
    .action(async (name: string | undefined, o: { driver: string; label: string[]; opt: string[]; name?: string }) => {
      if (name !== undefined && o.name !== undefined) throw new UsageError('conflicting options: cannot specify a volume-name through both --name and as a positional arg');
      const v = await createVolume({ name: name ?? o.name, driver: o.driver, labels: toMap(o.label), options: toMap(o.opt) }, cli.api());
      cli.out(v.Name);
    });

  volume
    .command('ls')
    .alias('list')
    .description('List volumes')
    .option('-q, --quiet', 'Only display volume names')
    .option('--format <format>', "Format output using a custom template: 'table', 'table TEMPLATE', 'json', 'TEMPLATE'")
    .option('-f, --filter <filter>', "Provide filter values (e.g. 'dangling=true')", collect, [])
    .action(async (o: { quiet?: boolean; format?: string; filter: string[] }) => {
      const volumes = await listVolumes({ filters: o.filter }, cli.api());
      const format = o.format?.trim();
      if (o.quiet && (!format || format === 'table')) {
        for (const v of volumes) cli.out(v.Name);
        return;
      }
      // docker's formatter fields; `json` prints them with Go's sorted keys
      const rows = volumes.map((v) => ({
        Availability: 'N/A',
        Driver: v.Driver,
        Group: 'N/A',
        Labels: Object.keys(v.Labels)
          .sort()
          .map((k) => `${k}=${v.Labels[k]}`)
          .join(','),
        Links: 'N/A',
        Mountpoint: v.Mountpoint,
        Name: v.Name,
        Scope: 'local',
        Size: 'N/A',
        Status: 'N/A',
      }));
      renderList(cli, rows, format, { table: 'table {{.Driver}}\t{{.Name}}', headers: HEADERS });
    });

  volume
    .command('inspect')
    .description('Display detailed information on one or more volumes')
    .argument('<volume...>', 'volume names')
    .option('-f, --format <format>', "Format output using a custom template ('json' or a Go template)")
    .action(async (names: string[], o: { format?: string }) => {
      const ctx = cli.api();
      const found: object[] = [];
      let failed = false;
      for (const n of names) {
        try {
          found.push(await inspectVolume(n, ctx));
        } catch (err) {
          failed = true;
          cli.stderr.write(`Error: ${dockerMessage(err)}\n`);
        }
      }
      renderInspect(cli, found, o.format);
      if (failed) throw new TsdockError('', { exitCode: 1 }).silent();
    });

  volume
    .command('rm')
    .alias('remove')
    .description('Remove one or more volumes')
    .argument('<volume...>', 'volume names')
    .option('-f, --force', 'Force the removal of one or more volumes')
    .action(async (names: string[], o: { force?: boolean }) => {
      const r = await removeVolumes({ names, force: o.force }, cli.api());
      for (const name of r.removed) cli.out(name);
      if (r.errors.length) {
        for (const err of r.errors) cli.stderr.write(`Error: ${dockerMessage(err)}\n`);
        throw new TsdockError('', { exitCode: 1 }).silent();
      }
    });

  volume
    .command('prune')
    .description('Remove unused local volumes')
    .option('-a, --all', 'Remove all unused volumes, not just anonymous ones')
    .option('--filter <filter>', "Provide filter values (e.g. 'label=<label>')", collect, [])
    .option('-f, --force', 'Do not prompt for confirmation')
    .action(async (o: { all?: boolean; filter: string[]; force?: boolean }) => {
      if (!o.force && !(await confirm(cli, o.all ? PRUNE_ALL_WARNING : PRUNE_WARNING))) return;
      const r = await pruneVolumes({ all: o.all, filters: o.filter }, cli.api());
      if (r.deleted.length) {
        cli.out('Deleted Volumes:');
        for (const name of r.deleted) cli.out(name);
        cli.out('');
      }
      // docker: units.HumanSize, 4 significant digits
      cli.out(`Total reclaimed space: ${humanSize(r.reclaimed, 4)}`);
    });
}


/** docker's opts.ValidateLabel: a key is required and has no whitespace. */
function collectLabel(value: string, previous: string[]): string[] {
  const i = value.indexOf('=');
  const key = (i < 0 ? value : value.slice(0, i)).replace(/^\s+/, '');
  if (key === '') throw new InvalidArgumentError(`invalid label '${value}': empty name`);
  if (/\s/.test(key)) throw new InvalidArgumentError(`label '${key}' contains whitespaces`);
  return [...previous, `${key}=${i < 0 ? '' : value.slice(i + 1)}`];
}

/** KEY=VALUE strings as a map; a bare KEY maps to '' (docker's ConvertKVStringsToMap / MapOpts). */
function toMap(items: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of items) {
    const i = item.indexOf('=');
    out[i < 0 ? item : item.slice(0, i)] = i < 0 ? '' : item.slice(i + 1);
  }
  return out;
}

/** docker capitalizes "No such volume" in what the user sees. */
function dockerMessage(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(/^no such volume/, 'No such volume');
}


