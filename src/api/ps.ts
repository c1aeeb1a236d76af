import type { Context } from '../context.js';
import { UsageError } from '../errors.js';
import { ImageStore, findImage } from '../image/store/images.js';
import type { ImageIndexFile } from '../image/store/types.js';
import { familiarName, parseReference } from '../image/reference.js';
import { liveLease } from '../network/leases.js';
import type { ContainerRecord, ContainerState } from '../container/record.js';
import { listContainerIds, loadRecordOrOrphan, rwSize } from '../container/state.js';
import { containerState, currentState, isActive } from '../container/status.js';
import { resolveContainer } from '../container/lookup.js';
import { labelsMatch } from './prune-filters.js';

export interface PsOptions {
  /** stopped containers too (-a) */
  all?: boolean;
  /** the N most recently created, in any state (-n; -l is 1) */
  last?: number;
  /** docker's filters, KEY=VALUE, repeatable: status, name, id, label, ancestor, exited, before, since, volume, network, health, publish, expose, is-task */
  filters?: string[];
  /** compute SizeRw / SizeRootFs (-s) */
  size?: boolean;
}

/** One container as `ps` sees it (docker's types.Container, in our shape). */
export interface ContainerSummary {
  Id: string;
  /** without docker's leading "/" */
  Name: string;
  /** what docker's API reports: the image as the user named it, or its id when that name no longer means it */
  Image: string;
  ImageID: string;
  /** docker's Command: path and args, args with spaces in single quotes */
  Command: string;
  Created: string;
  State: ContainerState;
  Labels: Record<string, string>;
  Mounts: ContainerRecord['Mounts'];
  NetworkMode: string;
  /** docker's Ports: the published ports of a running container */
  Ports: Array<{ IP: string; PrivatePort: number; PublicPort: number; Type: string }>;
  SizeRw?: number;
  SizeRootFs?: number;
  /** a half-created container (no container.json): shown `dead`, removable */
  Orphan: boolean;
}

const STATUSES = ['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead'];
const FILTERS = ['status', 'name', 'id', 'label', 'ancestor', 'exited', 'before', 'since', 'volume', 'network', 'health', 'publish', 'expose', 'is-task'];

/** docker's `ps` filters: KEY=VALUE, values of one key OR'ed, keys AND'ed. */
export function parsePsFilters(args: string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const f of args) {
    const i = f.indexOf('=');
    if (i < 0) throw new UsageError('bad format of filter (expected name=value)');
    const key = f.slice(0, i).trim().toLowerCase();
    const value = f.slice(i + 1).trim();
    if (!FILTERS.includes(key)) throw new UsageError(`invalid filter '${key}'`);
    if (key === 'status' && !STATUSES.includes(value)) throw new UsageError(`invalid filter 'status=${value}'`);
    if (key === 'exited' && !/^-?\d+$/.test(value)) throw new UsageError(`invalid filter 'exited=${value}': strconv.Atoi: parsing ${JSON.stringify(value)}: invalid syntax`);
    if (key === 'health' && !['starting', 'healthy', 'unhealthy', 'none'].includes(value)) throw new UsageError(`Unrecognised filter value for health: ${value}`);
    if (key === 'is-task' && !['true', 'false', '1', '0'].includes(value)) throw new UsageError(`invalid filter 'is-task=${value}'`);
    out.set(key, [...(out.get(key) ?? []), value]);
  }
  return out;
}

/** docker's command column source: Path, then Args with the ones holding a space in single quotes. */
export function commandLine(path: string, args: string[]): string {
  if (!args.length) return path;
  return `${path} ${args.map((a) => (a.includes(' ') ? `'${a}'` : a)).join(' ')}`;
}

/**
 * `ps`: the containers, newest first. Reads container.json, state.json and exit.json per container (plus /proc for
 * running ones) and images.json once; sizes only with `size`.
 */
export async function listContainers(opts: PsOptions, ctx: Context): Promise<ContainerSummary[]> {
  const filters = parsePsFilters(opts.filters ?? []);
  const root = ctx.root;
  const all = Boolean(opts.all) || filters.has('status') || (opts.last ?? 0) > 0;
  const rows: ContainerSummary[] = [];
  for (const id of listContainerIds(root)) {
    let state: ContainerState | undefined;
    // without -a only running containers are shown: their state decides before their record is read
    if (!all) {
      state = await currentState(root, id).catch(() => undefined);
      if (!state || !isActive(state)) continue;
    }
    const loaded = loadRecordOrOrphan(root, id);
    if (!loaded || (loaded.orphan && !all)) continue; // removed meanwhile; an orphan is dead
    const { record: r, orphan } = loaded;
    try {
      state ??= await containerState(root, id, orphan);
    } catch {
      continue; // removed while we read it
    }
    rows.push({
      Id: id,
      Name: r.Name.replace(/^\//, ''),
      Image: r.ImageName || r.Image,
      ImageID: r.Image,
      Command: commandLine(r.Path, r.Args),
      Created: r.Created,
      State: state,
      Labels: r.Config.Labels ?? {},
      Mounts: r.Mounts ?? [],
      NetworkMode: r.HostConfig.NetworkMode,
      Ports: state.Status === 'running' ? (liveLease(ctx.env, id)?.ports ?? []).map((p) => ({ IP: p.hostIp, PrivatePort: p.containerPort, PublicPort: p.hostPort, Type: p.protocol })) : [],
      Orphan: orphan,
    });
  }
  const time = (iso: string) => Date.parse(iso) || 0;
  rows.sort((a, b) => time(b.Created) - time(a.Created) || a.Id.localeCompare(b.Id));

  let index: ImageIndexFile | undefined;
  const images = async () => (index ??= await new ImageStore(root).read());
  // docker shows the image id when the name the container was created with now means another image (or none)
  if (rows.some((r) => r.ImageID && r.Image !== r.ImageID)) {
    const idx = await images();
    const resolved = new Map<string, string | undefined>();
    for (const row of rows) {
      if (!row.ImageID || row.Image === row.ImageID) continue;
      if (!resolved.has(row.Image)) resolved.set(row.Image, safeFind(idx, row.Image));
      if (resolved.get(row.Image) !== row.ImageID) row.Image = row.ImageID;
    }
  }

  const matcher = await buildMatcher(filters, images, root);
  const out: ContainerSummary[] = [];
  for (const row of rows) {
    if (!all && !isActive(row.State)) continue;
    if (!matcher(row)) continue;
    out.push(row);
    if (opts.last && opts.last > 0 && out.length === opts.last) break;
  }
  if (opts.size) {
    const idx = await images();
    for (const row of out) {
      row.SizeRw = rwSize(root, row.Id);
      row.SizeRootFs = row.SizeRw + (idx.images[row.ImageID]?.size ?? 0);
    }
  }
  return out;
}

function safeFind(index: ImageIndexFile, name: string): string | undefined {
  try {
    return findImage(index, name)?.id;
  } catch {
    return undefined;
  }
}

/** docker's filters.Match: an exact value, or an unanchored regular expression that matches. */
function match(values: string[] | undefined, subject: string): boolean {
  if (!values) return true;
  return values.some((v) => {
    if (v === subject) return true;
    try {
      return new RegExp(v).test(subject);
    } catch {
      return false;
    }
  });
}

/** docker's MatchKVList: every `KEY` or `KEY=VALUE` holds in `labels`. */
async function buildMatcher(filters: Map<string, string[]>, images: () => Promise<ImageIndexFile>, root: string): Promise<(row: ContainerSummary) => boolean> {
  let ancestors: Set<string> | undefined;
  if (filters.has('ancestor')) {
    const idx = await images();
    ancestors = new Set(filters.get('ancestor')!.map((a) => safeFind(idx, a)).filter((x): x is string => Boolean(x)));
  }
  // before=/since= name any container, shown or not
  const createdOf = (ref: string) => Date.parse(loadRecordOrOrphan(root, resolveContainer(root, ref))?.record.Created ?? '') || 0;
  const before = filters.get('before')?.map(createdOf);
  const since = filters.get('since')?.map(createdOf);
  const exited = filters.get('exited')?.map(Number);
  const isTask = filters.get('is-task');
  return (row) => {
    const s = row.State;
    if (filters.has('status') && !filters.get('status')!.includes(s.Status)) return false;
    if (filters.has('name') && !match(filters.get('name'), `/${row.Name}`) && !match(filters.get('name'), row.Name)) return false;
    if (!match(filters.get('id'), row.Id)) return false;
    if (!labelsMatch(filters.get('label'), row.Labels)) return false;
    if (ancestors && !ancestors.has(row.ImageID)) return false;
    if (exited && !(s.Status !== 'running' && s.Status !== 'paused' && s.StartedAt && exited.includes(s.ExitCode ?? 0))) return false;
    if (before && !before.every((t) => (Date.parse(row.Created) || 0) < t)) return false;
    if (since && !since.every((t) => (Date.parse(row.Created) || 0) > t)) return false;
    if (filters.has('volume') && !filters.get('volume')!.some((v) => row.Mounts.some((m) => m.Name === v || m.Source === v || m.Destination === v))) return false;
    if (filters.has('network') && !filters.get('network')!.includes(row.NetworkMode)) return false;
    if (filters.has('health') && !filters.get('health')!.includes(s.Health?.Status ?? 'none')) return false;
    // no published or exposed ports yet: such filters match nothing
    if (filters.has('publish') || filters.has('expose')) return false;
    if (isTask && isTask.some((v) => v === 'true' || v === '1')) return false;
    return true;
  };
}

export { statusString } from '../container/status.js';

function shortId(id: string): string {
  return id.replace(/^sha256:/, '').slice(0, 12);
}

/**
 * docker's IMAGE column: an image id shortened to 12 hex digits; a name in its familiar form with its tag if one
 * was given, the digest dropped; as stored with --no-trunc.
 */
export function imageColumn(image: string, imageId: string, trunc: boolean): string {
  if (!image) return '<no image>';
  if (!trunc) return image;
  if (imageId && shortId(imageId) === shortId(image)) return shortId(image);
  try {
    const ref = parseReference(image, { defaultTag: false });
    return ref.tag !== undefined ? `${familiarName(ref)}:${ref.tag}` : familiarName(ref);
  } catch {
    return image;
  }
}
