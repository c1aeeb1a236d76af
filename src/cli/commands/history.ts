import { Command } from 'commander';
import type { CliContext } from '../context.js';
import { imageHistory } from '../../api/history.js';
import { renderList } from '../render/format.js';
import { ago, humanSize } from '../render/units.js';

const HEADERS = { ID: 'IMAGE', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT', CreatedBy: 'CREATED BY', Size: 'SIZE', Comment: 'COMMENT' };

export function register(parent: Command, cli: CliContext, name = 'history'): void {
  parent
    .command(name)
    .description('Show the history of an image')
    .argument('<image>', 'image name or ID')
    .option('-H, --human [bool]', 'Print sizes and dates in human readable format', (v) => v !== 'false', true)
    .option('-q, --quiet', 'Only show image IDs')
    .option('--no-trunc', "Don't truncate output")
    .option('--format <format>', "Format output using a custom template: 'table', 'table TEMPLATE', 'json', 'TEMPLATE'")
    .action(async (image: string, o: { human: boolean; quiet?: boolean; trunc: boolean; format?: string }) => {
      const rows = await imageHistory(image, cli.api());
      const id = (v: string) => (v.startsWith('sha256:') && o.trunc ? v.slice(7, 19) : v);
      if (o.quiet) {
        for (const r of rows) cli.out(id(r.id));
        return;
      }
      const view = rows.map((r) => ({
        Comment: r.comment,
        CreatedAt: r.created ?? '',
        CreatedBy: o.trunc ? truncate(r.createdBy, 45) : r.createdBy,
        CreatedSince: o.human ? ago(r.created) : (r.created ?? ''),
        ID: id(r.id),
        Size: o.human ? humanSize(r.size) : String(r.size),
        Tags: r.tags.length ? r.tags.join(', ') : '<none>',
      }));
      renderList(cli, view, o.format, { table: 'table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}', headers: HEADERS });
    });
}

function truncate(s: string, n: number): string {
  const flat = s.replace(/\s+/g, ' ');
  return flat.length > n ? `${flat.slice(0, n - 1)}…` : flat;
}
