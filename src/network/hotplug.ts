/**
 * `network connect` / `disconnect` of a running container: an endpoint added to or taken from its lease under the
 * net lock, its veth made or deleted while it runs, the firewall and the resolvers' name files brought up to date.
 * At a start the executor makes the links (its plan); a running container's netns is entered from outside instead:
 * one `ip -batch -` for the host side (the veth, its peer moved into the container's netns by pid, the bridge) and
 * one inside the netns (`nsenter --net`) for the address, the link and, when it is the first endpoint, the default
 * route. The batches are pure (hotplugBatches) and tested as text.
 */
import { TsdockError } from '../errors.js';
import { ensureBridge } from './bridge.js';
import { writeDnsRecords } from './dns-records.js';
import { allocateEndpoint, nextIfname, type EndpointOwner, type EndpointWish } from './endpoint.js';
import { runHelper } from './helpers.js';
import { bridgeRecords, dropCollected, liveLease, liveLeases, netRunDir, selfOwner, withNetLock, writeLease } from './leases.js';
import { applyRuleset, renderRuleset } from './nft.js';
import { ensureNetnsHolder, ensureRootlessBridge, ipInHolder, liveNetnsHolder, stopNetnsHolder, type Holder } from './rootless-netns.js';
import type { Endpoint, NetworkLease, NetworkRecord } from './types.js';

/** the running container as the hot-plug sees it */
export interface RunningContainer extends EndpointOwner {
  root: string;
  /** its init's host pid: the netns is /proc/<pid>/ns/net */
  pid: number;
  /** rootless: the bridges are in the user's network namespace, pasta's eth0 keeps the routes, no firewall */
  rootless?: boolean;
}

/**
 * The two `ip -batch` inputs that attach `e` to the container whose init is `pid`; `route`/`route6`: `e` carries
 * the default route (its first endpoint) / the IPv6 one (its first IPv6 endpoint).
 */
export function hotplugBatches(e: Endpoint, pid: number, route: boolean, route6 = route): { host: string; container: string } {
  const host = [`link add ${e.hostIf} type veth peer name ${e.ifname} address ${e.mac} netns ${pid}`, `link set ${e.hostIf} master ${e.bridge} up`];
  const v6 = e.ip6 ? [`addr add ${e.ip6}/${e.prefix6} dev ${e.ifname} nodad`] : [];
  const routes = [...(route ? [`route replace default via ${e.gateway}`] : []), ...(route6 && e.gateway6 ? [`route replace default via ${e.gateway6}`] : [])];
  const container = [`addr add ${e.ip}/${e.prefix} dev ${e.ifname}`, ...v6, `link set ${e.ifname} up`, ...routes];
  return { host: `${host.join('\n')}\n`, container: `${container.join('\n')}\n` };
}

const inNetns = (pid: number, batch: string, what: string) => runHelper('nsenter', [`--net=/proc/${pid}/ns/net`, 'ip', '-batch', '-'], batch, what);

/** `ip <args>` where the container's host-side links live: the host, or (rootless) the user's network namespace */
const ipHostSide = (holder: Holder | undefined, args: string[], input: string | undefined, what: string) => (holder ? ipInHolder(holder, args, input, what) : runHelper('ip', args, input, what));

/** The changed lease written, then the firewall (rootful) and the name files from every live lease; returns those. */
async function commit(dir: string, lease: NetworkLease, rootless?: boolean): Promise<NetworkLease[]> {
  await writeLease(dir, lease);
  const { live, collected } = liveLeases(dir);
  if (!rootless) await applyRuleset(renderRuleset(bridgeRecords(dir), live), dir);
  dropCollected(dir, collected);
  writeDnsRecords(dir, live);
  return live;
}

/** Attach a running container to `n`; returns the new endpoint. */
export async function connectRunning(c: RunningContainer, n: NetworkRecord, want: EndpointWish | undefined, env: NodeJS.ProcessEnv): Promise<Endpoint> {
  const dir = netRunDir(env);
  return withNetLock(dir, async () => {
    const lease: NetworkLease = liveLease(env, c.id) ?? { containerId: c.id, root: c.root, owner: selfOwner(c.pid), endpoints: [], ports: [] };
    if (lease.endpoints.some((e) => e.networkId === n.Id)) throw new TsdockError(`endpoint with name ${c.name} already exists in network ${n.Name}`, { exitCode: 1 });
    const others = liveLeases(dir).live.filter((l) => l.containerId !== c.id);
    const holder = c.rootless ? await ensureNetnsHolder(dir) : undefined;
    if (holder) await ensureRootlessBridge(n, dir, holder);
    else await ensureBridge(n, dir);
    // rootless: eth0 is pasta's, so the first veth is eth1, and the routes stay pasta's
    const e = allocateEndpoint(n, nextIfname(c.rootless ? [{ ifname: 'eth0' } as Endpoint, ...lease.endpoints] : lease.endpoints), others, want, c);
    const b = hotplugBatches(e, c.pid, !c.rootless && lease.endpoints.length === 0, !c.rootless && !lease.endpoints.some((x) => x.gateway6));
    const what = `connect container ${c.id.slice(0, 12)} to network ${n.Name}`;
    try {
      await ipHostSide(holder, ['-batch', '-'], b.host, what);
      await inNetns(c.pid, b.container, what);
    } catch (err) {
      await ipHostSide(holder, ['link', 'delete', e.hostIf], undefined, what).catch(() => undefined);
      throw err;
    }
    await commit(dir, { ...lease, endpoints: [...lease.endpoints, e] }, c.rootless);
    return e;
  });
}

/** Detach a running container from `n`: its veth goes; the next endpoint, if any, carries the default route. */
export async function disconnectRunning(c: RunningContainer, n: NetworkRecord, env: NodeJS.ProcessEnv): Promise<void> {
  const dir = netRunDir(env);
  await withNetLock(dir, async () => {
    const lease = liveLease(env, c.id);
    const e = lease?.endpoints.find((x) => x.networkId === n.Id);
    if (!lease || !e) return;
    const rest = lease.endpoints.filter((x) => x !== e);
    const what = `disconnect container ${c.id.slice(0, 12)} from network ${n.Name}`;
    const holder = c.rootless ? liveNetnsHolder(dir) : undefined;
    // rootless without a holder: its namespace, and the veth with it, is gone already
    if (holder || !c.rootless) {
      await ipHostSide(holder, ['link', 'delete', e.hostIf], undefined, what).catch((err: Error) => {
        if (!/Cannot find device/.test(err.message)) throw err;
      });
    }
    const routes = [];
    if (e === lease.endpoints[0] && rest[0]) routes.push(`route replace default via ${rest[0].gateway}`);
    const next6 = rest.find((x) => x.gateway6);
    if (e === lease.endpoints.find((x) => x.gateway6) && next6) routes.push(`route replace default via ${next6.gateway6}`);
    if (routes.length && !c.rootless) await inNetns(c.pid, `${routes.join('\n')}\n`, what);
    const live = await commit(dir, { ...lease, endpoints: rest }, c.rootless);
    if (holder && !live.some((l) => l.endpoints.length)) stopNetnsHolder(dir);
  });
}
