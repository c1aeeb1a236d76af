/** A container as docker's list formatters show it (`ps`, `system df -v`). */
import { imageColumn, statusString, type ContainerSummary } from '../../api/ps.js';
import { ago, humanDuration, humanSize } from './units.js';
import { goTime } from './time.js';

/** docker's ContainerContext fields (json keys in Go's sorted order). */
export function psRow(r: ContainerSummary, trunc: boolean, now: number): Record<string, string> {
  const created = Date.parse(r.Created);
  return {
    Command: JSON.stringify(trunc ? ellipsis(r.Command, 20) : r.Command),
    CreatedAt: goTime(r.Created),
    ID: trunc ? r.Id.slice(0, 12) : r.Id,
    Image: imageColumn(r.Image, r.ImageID, trunc),
    Labels: Object.keys(r.Labels)
      .sort()
      .map((k) => `${k}=${r.Labels[k]}`)
      .join(','),
    LocalVolumes: String(r.Mounts.filter((m) => m.Type === 'volume').length),
    Mounts: r.Mounts.map((m) => (trunc ? ellipsis(m.Name || m.Source, 15) : m.Name || m.Source)).join(','),
    Names: r.Name,
    Networks: r.NetworkMode,
    Ports: r.Ports.map((p) => `${p.IP.includes(':') ? `[${p.IP}]` : p.IP}:${p.PublicPort}->${p.PrivatePort}/${p.Type}`).join(', '),
    // docker's API has Created in whole seconds
    RunningFor: Number.isNaN(created) ? 'N/A' : ago(new Date(Math.floor(created / 1000) * 1000).toISOString(), now),
    Size: sizeColumn(r),
    State: r.State.Status,
    Status: statusString(r.State, humanDuration, now),
  };
}

/** docker: `2B (virtual 4.26MB)`, each with 3 significant digits; `0B` when sizes were not asked for. */
function sizeColumn(r: ContainerSummary): string {
  const rw = humanSize(r.SizeRw ?? 0);
  return r.SizeRootFs ? `${rw} (virtual ${humanSize(r.SizeRootFs)})` : rw;
}

/** docker's formatter.Ellipsis: at most `max` characters, the last one `…` when cut. */
export function ellipsis(s: string, max: number): string {
  const chars = [...s];
  if (chars.length <= max) return s;
  return `${chars.slice(0, max - 1).join('')}…`;
}
