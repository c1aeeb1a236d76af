import { Command, InvalidArgumentError } from 'commander';
import type { CliContext } from '../context.js';
import { listContainers } from '../../api/ps.js';
import { renderList } from '../render/format.js';
import { psRow } from '../render/container-row.js';
import { collect } from '../opts/flags.js';

const HEADERS = {
  ID: 'CONTAINER ID',
  Image: 'IMAGE',
  Command: 'COMMAND',
  CreatedAt: 'CREATED AT',
  RunningFor: 'CREATED',
  Ports: 'PORTS',
  State: 'STATE',
  Status: 'STATUS',
  Size: 'SIZE',
  Names: 'NAMES',
  Labels: 'LABELS',
  Mounts: 'MOUNTS',
  Networks: 'NETWORKS',
  LocalVolumes: 'LOCAL VOLUMES',
};

const TABLE = 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}';

interface PsFlags {
  all?: boolean;
  quiet?: boolean;
  latest?: boolean;
  last?: number;
  size?: boolean;
  trunc: boolean;
  filter: string[];
  format?: string;
}

/** `ps` and `container ls`. */
export function register(parent: Command, cli: CliContext, name = 'ps'): void {
  parent
    .command(name)
    .description('List containers')
    .option('-a, --all', 'Show all containers (default shows just running)')
    .option('-f, --filter <filter>', 'Filter output based on conditions provided (status, name, id, label, ancestor, exited, before, since, volume, network, health)', collect, [])
    .option('--format <format>', "Format output using a custom template: 'table', 'table TEMPLATE', 'json', 'TEMPLATE'")
    .option('-n, --last <n>', 'Show n last created containers (includes all states)', integer)
    .option('-l, --latest', 'Show the latest created container (includes all states)')
    .option('--no-trunc', "Don't truncate output")
    .option('-q, --quiet', 'Only display container IDs')
    .option('-s, --size', 'Display total file sizes')
    .action(async (o: PsFlags) => {
      const format = o.format?.trim();
      const size = Boolean(o.size) || Boolean(format && /\.Size\b/.test(format));
      const rows = await listContainers({ all: o.all, last: o.latest ? 1 : o.last, filters: o.filter, size }, cli.api());
      const id = (full: string) => (o.trunc ? full.slice(0, 12) : full);
      if (o.quiet && (!format || format === 'table')) {
        for (const r of rows) cli.out(id(r.Id));
        return;
      }
      const now = Date.now();
      const view = rows.map((r) => psRow(r, o.trunc, now));
      renderList(cli, view, format, { table: size && (!format || format === 'table') ? `${TABLE}\t{{.Size}}` : TABLE, headers: HEADERS });
    });
}

function integer(value: string): number {
  if (!/^-?\d+$/.test(value)) throw new InvalidArgumentError(`invalid argument "${value}" for "-n, --last" flag: strconv.ParseInt: parsing ${JSON.stringify(value)}: invalid syntax`);
  return Number(value);
}
