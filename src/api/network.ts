import { goMap } from './go-map.js';
import type { Context } from '../context.js';
import { TsdockError } from '../errors.js';
import { listContainerIds, loadRecord } from '../container/state.js';
import { requestOf } from '../container/record.js';
import { requestedNetworks } from '../container/request.js';
import { resolveContainer } from '../container/lookup.js';
import { createNetwork as storeCreate, deleteNetworkRecord, findNetwork, listNetworks as storeList, withNetworksLock } from '../network/store.js';
import { dropCollected, liveLeases, netRunDir, ownerAlive, dropBridgeRecord, bridgeRecords, withNetLock, readLease } from '../network/leases.js';
import { applyRuleset, renderRuleset } from '../network/nft.js';
import { reloadFirewall } from '../network/attach.js';
import { removeBridge } from '../network/bridge.js';
import { removeRootlessBridge } from '../network/rootless-netns.js';
import { PRUNE_FILTERS, parseFilters, pruneMatcher } from './prune-filters.js';
import { bridgeOf, DEFAULT_NETWORK, type NetworkCreateOptions, type NetworkRecord, type PortMapping } from '../network/types.js';


export type { NetworkCreateOptions, NetworkRecord, PortMapping };

/** docker's `network inspect` object: the record plus the running containers on it */
export type NetworkInspect = NetworkRecord & { Containers: Record<string, { Name: string; EndpointID: string; MacAddress: string; IPv4Address: string; IPv6Address: string }> };

export async function createNetwork(o: NetworkCreateOptions, ctx: Context): Promise<NetworkRecord> {
  return storeCreate(ctx.root, o, ctx.env);
}

export async function listNetworks(ctx: Context): Promise<NetworkRecord[]> {
  return storeList(ctx.root, ctx.env);
}

function containersOn(n: NetworkRecord, ctx: Context): NetworkInspect['Containers'] {
  const out: NetworkInspect['Containers'] = {};
  const { live } = liveLeasesUnlocked(ctx);
  for (const l of live) {
    if (l.root !== ctx.root) continue;
    for (const e of l.endpoints) {
      if (e.networkId !== n.Id) continue;
      out[l.containerId] = { Name: loadRecord(ctx.root, l.containerId)?.Name ?? '', EndpointID: e.hostIf, MacAddress: e.mac, IPv4Address: `${e.ip}/${e.prefix}`, IPv6Address: e.ip6 ? `${e.ip6}/${e.prefix6}` : '' };
    }
  }
  return out;
}

/** the leases as they are on disk (a reader: dead ones are left for the next writer to collect) */
function liveLeasesUnlocked(ctx: Context) {
  const dir = netRunDir(ctx.env);
  const ids = new Set(listContainerIds(ctx.root));
  const live = [...ids].flatMap((id) => readLease(dir, id) ?? []).filter((l) => ownerAlive(l.owner));
  return { live };
}

export async function inspectNetwork(ref: string, ctx: Context): Promise<NetworkInspect> {
  const n = await findNetwork(ctx.root, ref, ctx.env);
  return { ...n, Containers: goMap(containersOn(n, ctx)) as NetworkInspect['Containers'], Options: goMap(n.Options) as Record<string, string>, Labels: goMap(n.Labels) as Record<string, string> };
}

/** containers of this store configured for the network (any state): what `network rm` refuses to break */
function usersOf(n: NetworkRecord, ctx: Context): string[] {
  return listContainerIds(ctx.root).filter((id) => {
    const rec = loadRecord(ctx.root, id);
    return rec ? requestedNetworks(requestOf(rec)).some((x) => x === n.Name || x === n.Id) : false;
  });
}

export async function removeNetworks(refs: string[], ctx: Context, opts: { force?: boolean } = {}): Promise<{ removed: string[]; errors: Error[] }> {
  const removed: string[] = [];
  const errors: Error[] = [];
  for (const ref of refs) {
    try {
      const n = await findNetwork(ctx.root, ref, ctx.env);
      if (n.Name === DEFAULT_NETWORK) throw new TsdockError(`${n.Name} is a pre-defined network and cannot be removed`, { exitCode: 1 });
      await removeOne(n, ctx, opts.force);
      removed.push(ref);
    } catch (err) {
      errors.push(err as Error);
    }
  }
  return { removed, errors };
}

async function removeOne(n: NetworkRecord, ctx: Context, force?: boolean): Promise<void> {
  await withNetworksLock(ctx.root, async () => {
    const users = usersOf(n, ctx);
    if (users.length && !force) throw new TsdockError(`error while removing network: network ${n.Name} id ${n.Id} has active endpoints (${users.map((u) => u.slice(0, 12)).join(', ')})`, { exitCode: 1 });
    const dir = netRunDir(ctx.env);
    if (!ctx.rootful) {
      await withNetLock(dir, () => removeRootlessBridge(n, dir));
      await deleteNetworkRecord(ctx.root, n);
      return;
    }
    await withNetLock(dir, async () => {
      await removeBridge(bridgeOf(n));
      dropBridgeRecord(dir, bridgeOf(n));
      const { live, collected } = liveLeases(dir);
      const bridges = bridgeRecords(dir);
      await applyRuleset(renderRuleset(bridges, live), dir);
      dropCollected(dir, collected);
    });
    await deleteNetworkRecord(ctx.root, n);
  });
}

/** `network prune`: user networks no container of this store is configured for (any state), matching the filters */
export async function pruneNetworks(ctx: Context, opts: { filters?: string[] } = {}): Promise<string[]> {
  const matches = pruneMatcher(parseFilters(opts.filters ?? [], PRUNE_FILTERS));
  const out: string[] = [];
  for (const n of await storeList(ctx.root, ctx.env)) {
    if (n.Name === DEFAULT_NETWORK || usersOf(n, ctx).length) continue;
    if (!matches({ created: n.Created, labels: n.Labels })) continue;
    await removeOne(n, ctx);
    out.push(n.Name);
  }
  return out;
}

/**
 * `system reset`'s part: every network of this store (its containers are gone by now), bridges included. The
 * default network's bridge is the host's, shared by every store (as docker0): only its record goes.
 */
export async function removeAllNetworks(ctx: Context): Promise<string[]> {
  const out: string[] = [];
  for (const n of await storeList(ctx.root, ctx.env)) {
    if (n.Name === DEFAULT_NETWORK) await deleteNetworkRecord(ctx.root, n);
    else await removeOne(n, ctx, true);
    out.push(n.Name);
  }
  return out;
}

export async function reloadNetworks(ctx: Context): Promise<string[]> {
  return reloadFirewall(ctx.env);
}

/** `port CONTAINER [PRIVATE_PORT[/PROTO]]`: the running container's published ports */
export function containerPorts(ref: string, ctx: Context): PortMapping[] {
  const id = resolveContainer(ctx.root, ref);
  const lease = readLease(netRunDir(ctx.env), id);
  return lease && ownerAlive(lease.owner) ? lease.ports : [];
}
