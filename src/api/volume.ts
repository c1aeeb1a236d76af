import { goMap } from './go-map.js';
import type { Context } from '../context.js';
import { UsageError } from '../errors.js';
import { listContainerIds, loadRecord } from '../container/state.js';
import { labelsMatch, parseFilters, pruneMatcher, type Filters } from './prune-filters.js';
import { ANONYMOUS_LABEL, VolumeStore, type InUseCheck, type Volume } from '../volume/store.js';

/**
 * Which containers use a volume: the seam `volume rm`, `volume prune` and `volume ls -f dangling=` go
 * through. The ids of the containers whose container.json mounts the volume (Mounts of Type volume, or
 * AnonymousVolumes), whatever their state, as docker counts stopped containers too.
 */
export function volumeUsers(ctx: Context): InUseCheck {
  // every container.json is read once, on the first question
  let users: Map<string, string[]> | undefined;
  return (name) => {
    if (!users) {
      users = new Map();
      for (const id of listContainerIds(ctx.root)) {
        const record = loadRecord(ctx.root, id);
        const names = new Set([...(record?.Mounts ?? []).filter((m) => m.Type === 'volume' && m.Name).map((m) => m.Name!), ...(record?.AnonymousVolumes ?? [])]);
        for (const n of names) users.set(n, [...(users.get(n) ?? []), id]);
      }
    }
    return users.get(name) ?? [];
  };
}

export interface CreateVolumeRequest {
  /** omitted: a random 64-hex name */
  name?: string;
  driver?: string;
  labels?: Record<string, string>;
  options?: Record<string, string>;
}

/** `volume create`: the volume (the existing one when the name is taken, as docker does). */
export async function createVolume(req: CreateVolumeRequest, ctx: Context): Promise<Volume> {
  return new VolumeStore(ctx.root).createVolume(req.name, { driver: req.driver, labels: req.labels, options: req.options });
}

export interface ListVolumesOptions {
  /** docker's filters: dangling=true|false|1|0, driver=, label=KEY[=VALUE], label!=KEY[=VALUE], name=REGEXP */
  filters?: string[];
  inUse?: InUseCheck;
}

/** `volume ls`: sorted by name in docker's natural order (vol2 before vol10). */
export async function listVolumes(options: ListVolumesOptions, ctx: Context): Promise<Volume[]> {
  const filters = parseFilters(options.filters ?? [], ['dangling', 'driver', 'label', 'label!', 'name']);
  const dangling = filters.get('dangling');
  if (dangling && dangling.length > 0) {
    if (dangling.some((v) => !['true', 'false', '1', '0'].includes(v.toLowerCase()))) throw new UsageError(`invalid filter 'dangling=${dangling.join(',')}'`);
  }
  const inUse = options.inUse ?? volumeUsers(ctx);
  const out: Volume[] = [];
  for (const v of await new VolumeStore(ctx.root).listVolumes()) {
    if (!labelsOk(v, filters)) continue;
    const names = filters.get('name');
    if (names && !names.some((n) => v.Name === n || regexpMatch(n, v.Name))) continue;
    const drivers = filters.get('driver');
    if (drivers && !drivers.includes(v.Driver)) continue;
    if (dangling && dangling.length > 0) {
      const want = ['true', '1'].includes(dangling[0]!.toLowerCase());
      const isDangling = (await inUse(v.Name)).length === 0;
      if (want !== isDangling) continue;
    }
    out.push(v);
  }
  return out.sort((a, b) => naturalCompare(a.Name, b.Name));
}

/** docker-shaped `volume inspect` object. */
export interface VolumeInspect {
  CreatedAt: string;
  Driver: string;
  Labels: Record<string, string>;
  Mountpoint: string;
  Name: string;
  Options: Record<string, string>;
  Scope: 'local';
}

/** `volume inspect NAME`: NotFoundError `no such volume: NAME` when missing. */
export async function inspectVolume(name: string, ctx: Context): Promise<VolumeInspect> {
  const v = await new VolumeStore(ctx.root).getVolume(name);
  return { CreatedAt: v.CreatedAt, Driver: v.Driver, Labels: goMap(v.Labels) ?? {}, Mountpoint: v.Mountpoint, Name: v.Name, Options: goMap(v.Options) ?? {}, Scope: 'local' };
}

export interface RemoveVolumesOptions {
  names: string[];
  force?: boolean;
  inUse?: InUseCheck;
}

/** `volume rm`: every name is tried; `removed` lists what to print (docker prints a name even when -f found nothing to remove). */
export async function removeVolumes(options: RemoveVolumesOptions, ctx: Context): Promise<{ removed: string[]; errors: Error[] }> {
  const store = new VolumeStore(ctx.root);
  const inUse = options.inUse ?? volumeUsers(ctx);
  const removed: string[] = [];
  const errors: Error[] = [];
  for (const name of options.names) {
    try {
      await store.removeVolume(name, { force: options.force, inUse });
      removed.push(name);
    } catch (err) {
      errors.push(err as Error);
    }
  }
  return { removed, errors };
}

export interface PruneVolumesOptions {
  /** every unused volume, not only anonymous ones (docker >= 23's -a) */
  all?: boolean;
  /** label=KEY[=VALUE], label!=KEY[=VALUE], all=true|false */
  filters?: string[];
  inUse?: InUseCheck;
}

export interface PruneVolumesResult {
  deleted: string[];
  /** bytes of the deleted volumes' data */
  reclaimed: number;
}

/** `volume prune`: unused anonymous volumes (all unused ones with `all`), matching the label filters. */
export async function pruneVolumes(options: PruneVolumesOptions, ctx: Context): Promise<PruneVolumesResult> {
  const filters = parseFilters(options.filters ?? [], ['label', 'label!', 'all']);
  const allFilter = filters.get('all');
  if (options.all && allFilter) throw new UsageError('conflicting options: cannot specify both --all and --filter all=1');
  let all = Boolean(options.all);
  if (allFilter) {
    const v = allFilter[allFilter.length - 1]!.toLowerCase();
    if (!['true', 'false', '1', '0'].includes(v)) throw new UsageError(`invalid filter 'all=${allFilter.join(',')}'`);
    all = v === 'true' || v === '1';
  }
  const matches = pruneMatcher(filters);
  const store = new VolumeStore(ctx.root);
  const inUse = options.inUse ?? volumeUsers(ctx);
  const result: PruneVolumesResult = { deleted: [], reclaimed: 0 };
  await store.withLock('exclusive', async () => {
    for (const v of await store.listVolumes()) {
      if (!all && !isAnonymous(v)) continue;
      if (!matches({ labels: v.Labels })) continue;
      if ((await inUse(v.Name)).length > 0) continue;
      const size = store.volumeSize(v.Name);
      if (await store.removeLocked(v.Name, { inUse })) {
        result.deleted.push(v.Name);
        result.reclaimed += size;
      }
    }
  });
  return result;
}

/** Anonymous: created by a container for an unnamed mount, or labelled as such (docker looks at the label only). */
export function isAnonymous(v: Volume): boolean {
  return v.Anonymous || ANONYMOUS_LABEL in v.Labels;
}

/** `volume ls`'s label=/label!=: every label= holds, no label!= holds. */
function labelsOk(v: Volume, filters: Filters): boolean {
  return labelsMatch(filters.get('label'), v.Labels) && !(filters.get('label!') ?? []).some((l) => labelsMatch([l], v.Labels));
}

/** docker matches name= as an unanchored regular expression; an invalid one matches nothing. */
function regexpMatch(pattern: string, s: string): boolean {
  try {
    return new RegExp(pattern).test(s);
  } catch {
    return false;
  }
}

/** fvbommel/sortorder.NaturalLess as a comparator: digit runs compare by value, then by length. */
export function naturalCompare(a: string, b: string): number {
  const chunks = (s: string) => s.match(/\d+|\D+/g) ?? [];
  const ca = chunks(a);
  const cb = chunks(b);
  for (let i = 0; i < Math.min(ca.length, cb.length); i++) {
    const x = ca[i]!;
    const y = cb[i]!;
    if (x === y) continue;
    const dx = /^\d/.test(x);
    const dy = /^\d/.test(y);
    if (dx && dy) {
      const nx = x.replace(/^0+/, '');
      const ny = y.replace(/^0+/, '');
      if (nx.length !== ny.length) return nx.length - ny.length;
      if (nx !== ny) return nx < ny ? -1 : 1;
      return x.length - y.length; // fewer leading zeros first
    }
    return x < y ? -1 : 1;
  }
  return ca.length - cb.length;
}

