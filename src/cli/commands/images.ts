import { Command } from 'commander';
import type { CliContext } from '../context.js';
import { listImages } from '../../api/images.js';
import { renderList } from '../render/format.js';
import { ago, humanSize } from '../render/units.js';
import { goTime } from '../render/time.js';
import { collect } from '../opts/flags.js';

const HEADERS = { ID: 'IMAGE ID', Repository: 'REPOSITORY', Tag: 'TAG', Digest: 'DIGEST', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT', Size: 'SIZE' };

export function register(parent: Command, cli: CliContext, name = 'images'): void {
  parent
    .command(name)
    .description('List images')
    .argument('[reference]', 'REPOSITORY[:TAG] to show')
    .option('-a, --all', 'Show all images (default hides intermediate images)')
    .option('-q, --quiet', 'Only show image IDs')
    .option('--digests', 'Show digests')
    .option('--no-trunc', "Don't truncate output")
    .option('-f, --filter <filter>', 'Filter output based on conditions provided (dangling, reference, before, since)', collect, [])
    .option('--format <format>', "Format output using a custom template: 'table', 'table TEMPLATE', 'json', 'TEMPLATE'")
    .action(async (reference: string | undefined, o: { all?: boolean; quiet?: boolean; digests?: boolean; trunc: boolean; filter: string[]; format?: string }) => {
      const rows = await listImages({ reference, filters: o.filter, all: o.all }, cli.api());
      const id = (full: string) => (o.trunc ? full.slice(7, 19) : full);
      if (o.quiet) {
        const seen = new Set<string>();
        for (const r of rows) if (!seen.has(r.id)) seen.add(r.id) && cli.out(id(r.id));
        return;
      }
      const expanded = o.digests ? rows.flatMap((r) => (r.digests.length > 1 ? r.digests.map((d) => ({ ...r, digest: d })) : [r])) : rows;
      const view = expanded.map((r) => ({
        Containers: 'N/A',
        CreatedAt: r.created ? goTime(r.created) : '',
        CreatedSince: ago(r.created),
        Digest: r.digest,
        ID: id(r.id),
        Repository: r.repository,
        SharedSize: 'N/A',
        Size: humanSize(r.size),
        Tag: r.tag,
        UniqueSize: 'N/A',
        VirtualSize: humanSize(r.size),
      }));
      const table = o.digests
        ? 'table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}'
        : 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}';
      renderList(cli, view, o.format, { table, headers: HEADERS });
    });
}

