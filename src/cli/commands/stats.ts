import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import type { ContainerStats } from '../../api/stats.js';
import { renderList } from '../render/format.js';
import { bytesSize, humanSize } from '../render/units.js';

const HEADERS = {
  Container: 'CONTAINER',
  ID: 'CONTAINER ID',
  Name: 'NAME',
  CPUPerc: 'CPU %',
  MemUsage: 'MEM USAGE / LIMIT',
  MemPerc: 'MEM %',
  NetIO: 'NET I/O',
  BlockIO: 'BLOCK I/O',
  PIDs: 'PIDS',
};

const TABLE = 'table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}';

/** docker's stats formatter fields (json keys in Go's order) */
export function statsRow(s: ContainerStats, trunc: boolean): Record<string, string> {
  return {
    BlockIO: `${humanSize(s.blockRead)} / ${humanSize(s.blockWrite)}`,
    CPUPerc: `${s.cpuPercent.toFixed(2)}%`,
    Container: trunc ? s.id.slice(0, 12) : s.id,
    ID: trunc ? s.id.slice(0, 12) : s.id,
    MemPerc: `${s.memPercent.toFixed(2)}%`,
    MemUsage: `${bytesSize(s.memUsage)} / ${bytesSize(s.memLimit)}`,
    Name: s.name,
    NetIO: `${humanSize(s.netRx)} / ${humanSize(s.netTx)}`,
    PIDs: String(s.pids),
  };
}

interface StatsFlags {
  all?: boolean;
  stream: boolean;
  trunc: boolean;
  format?: string;
}

/** `stats`: a live table (redrawn every second on a terminal, appended when piped) or one snapshot. */
export function register(program: Command, cli: CliContext): void {
  program
    .command('stats')
    .description('Display a live stream of container(s) resource usage statistics')
    .argument('[container...]', 'names or IDs (default: all running containers)')
    .option('-a, --all', 'Show all containers (default shows just running)')
    .option('--format <format>', "Format output using a custom template: 'table', 'table TEMPLATE', 'json', 'TEMPLATE'")
    .option('--no-stream', 'Disable streaming stats and only pull the first result')
    .option('--no-trunc', "Don't truncate output")
    .action(async (containers: string[], o: StatsFlags) => {
      const { containerStats } = await import('../../api/stats.js');
      const ctx = cli.api();
      const tty = Boolean((cli.stdout as { isTTY?: boolean }).isTTY);
      for (let first = true; ; first = false) {
        const rows = await containerStats({ containers, all: o.all, intervalMs: o.stream && !first ? 1000 : 500 }, ctx);
        if (o.stream && tty) cli.stdout.write('\x1b[2J\x1b[H');
        renderList(cli, rows.map((r) => statsRow(r, o.trunc)), o.format, { table: TABLE, headers: HEADERS });
        if (!o.stream) return;
      }
    });
}
