import { Command } from 'commander';
import type { CliContext } from '../context.js';
import { containerTop } from '../../api/top.js';

export function register(parent: Command, cli: CliContext, name = 'top'): void {
  parent
    .command(name)
    .description('Display the running processes of a container')
    .argument('<container>', 'container name or ID')
    .argument('[ps-options...]', 'options passed to ps (default -ef)')
    .allowUnknownOption()
    .passThroughOptions()
    .action(async (container: string, psArgs: string[]) => {
      const r = await containerTop(container, psArgs, cli.api());
      cli.stdout.write(tabwrite([r.titles, ...r.processes]));
    });
}

/** Go's tabwriter as docker's CLI uses it: minwidth 20, padding 3, the last column not padded. */
export function tabwrite(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows) row.slice(0, -1).forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, c.length)));
  return rows.map((row) => row.map((c, i) => (i < row.length - 1 ? c.padEnd(Math.max(20, widths[i]! + 3)) : c)).join('')).join('\n') + '\n';
}
