import type { CliContext } from '../context.js';
import type { SystemDf, UsageTotals } from '../../api/system-df.js';
import { familiarTag } from '../../api/rmi.js';
import { renderList, renderInspect } from './format.js';
import { ago, humanSize } from './units.js';
import { psRow } from './container-row.js';

const SUMMARY = { table: 'table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}', headers: { Type: 'TYPE', TotalCount: 'TOTAL', Active: 'ACTIVE', Size: 'SIZE', Reclaimable: 'RECLAIMABLE' } };
const IMAGES = {
  table: 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}\t{{.SharedSize}}\t{{.UniqueSize}}\t{{.Containers}}',
  headers: { Repository: 'REPOSITORY', Tag: 'TAG', ID: 'IMAGE ID', CreatedSince: 'CREATED', Size: 'SIZE', SharedSize: 'SHARED SIZE', UniqueSize: 'UNIQUE SIZE', Containers: 'CONTAINERS' },
};
const CONTAINERS = {
  table: 'table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.LocalVolumes}}\t{{.Size}}\t{{.RunningFor}}\t{{.Status}}\t{{.Names}}',
  headers: { ID: 'CONTAINER ID', Image: 'IMAGE', Command: 'COMMAND', LocalVolumes: 'LOCAL VOLUMES', Size: 'SIZE', RunningFor: 'CREATED', Status: 'STATUS', Names: 'NAMES' },
};
const VOLUMES = { table: 'table {{.Name}}\t{{.Links}}\t{{.Size}}', headers: { Name: 'VOLUME NAME', Links: 'LINKS', Size: 'SIZE' } };
const CACHE = {
  table: 'table {{.ID}}\t{{.CacheType}}\t{{.Size}}\t{{.CreatedSince}}\t{{.LastUsedSince}}\t{{.UsageCount}}\t{{.Shared}}',
  headers: { ID: 'CACHE ID', CacheType: 'CACHE TYPE', Size: 'SIZE', CreatedSince: 'CREATED', LastUsedSince: 'LAST USED', UsageCount: 'USAGE', Shared: 'SHARED' },
};

/** docker's units.HumanSize: 4 significant digits (what df's totals, shared and unique sizes use). */
const human4 = (n: number) => humanSize(n, 4);

/** docker's RECLAIMABLE: `1.2GB (50%)`, the percentage rounded down; no percentage when nothing is stored. */
export function reclaimable(t: UsageTotals, withPercent = true): string {
  const size = human4(t.reclaimable);
  return withPercent && t.size > 0 ? `${size} (${Math.floor((t.reclaimable * 100) / t.size)}%)` : size;
}

/** The four summary rows (docker's DiskUsageContext; json keys in Go's sorted order). */
export function summaryRows(df: SystemDf): Array<Record<string, string>> {
  const row = (type: string, t: UsageTotals, r: string) => ({ Active: String(t.active), Reclaimable: r, Size: human4(t.size), TotalCount: String(t.totalCount), Type: type });
  return [
    row('Images', df.images, reclaimable(df.images)),
    row('Containers', df.containers, reclaimable(df.containers)),
    row('Local Volumes', df.volumes, reclaimable(df.volumes)),
    // docker prints the build cache's reclaimable space without a percentage
    row('Build Cache', df.buildCache, reclaimable(df.buildCache, false)),
  ];
}

/** `system df -v`'s sections as docker's verbose context: Images, Containers, Volumes, BuildCache. */
export function verboseView(df: SystemDf, trunc: boolean): Record<string, Array<Record<string, string>>> {
  const now = Date.now();
  return {
    Images: df.images.items.map((i) => {
      const tag = i.record.repoTags[0];
      const familiar = tag ? familiarTag(tag) : '<none>:<none>';
      const colon = familiar.lastIndexOf(':');
      return {
        Containers: String(i.containers),
        CreatedSince: ago(i.record.created, now),
        ID: trunc ? i.id.slice(7, 19) : i.id,
        Repository: familiar.slice(0, colon),
        SharedSize: human4(i.sharedSize),
        Size: humanSize(i.size),
        Tag: familiar.slice(colon + 1),
        UniqueSize: human4(i.uniqueSize),
      };
    }),
    Containers: df.containers.items.map((c) => psRow(c, trunc, now)),
    Volumes: df.volumes.items.map((v) => ({ Links: String(v.links), Name: v.name, Size: human4(v.size) })),
    BuildCache: df.buildCache.items.map((b) => ({
      CacheType: 'regular',
      CreatedSince: ago(b.created, now),
      ID: trunc ? b.key.replace(/^sha256:/, '').slice(0, 12) : b.key,
      LastUsedSince: ago(b.created, now),
      Shared: String(b.shared),
      Size: human4(b.size),
      UsageCount: '1',
    })),
  };
}

/** `system df`: the summary table (or its rows in `format`); with `verbose`, docker's four sections. */
export function renderDiskUsage(cli: CliContext, df: SystemDf, opts: { verbose?: boolean; format?: string }): void {
  const format = opts.format?.trim();
  if (!opts.verbose) return renderList(cli, summaryRows(df), format, SUMMARY);
  const view = verboseView(df, !format || format.startsWith('table'));
  if (format === 'json') return cli.out(JSON.stringify(view));
  if (format && format !== 'table') return renderInspect(cli, [view], format);
  cli.stdout.write('Images space usage:\n\n');
  renderList(cli, view.Images!, undefined, IMAGES);
  cli.stdout.write('\nContainers space usage:\n\n');
  renderList(cli, view.Containers!, undefined, CONTAINERS);
  cli.stdout.write('\nLocal Volumes space usage:\n\n');
  renderList(cli, view.Volumes!, undefined, VOLUMES);
  cli.stdout.write(`\nBuild cache usage: ${human4(df.buildCache.size)}\n\n`);
  renderList(cli, view.BuildCache!, undefined, CACHE);
}
