/**
 * A container's network at each start, and its release: the leases (addresses, ports) under the host-wide net
 * lock, the bridges made on first use, the firewall re-rendered when ports or bridges changed, and what the
 * executor's plan needs (veth pairs, published ports to hold, the container-side steps) plus the /etc/hosts and
 * /etc/resolv.conf contents for this run. Pure decisions are in cidr.ts and nft.ts; this file reads as the steps.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { TsdockError } from '../errors.js';
import type { PlanStep, PortReservation, VethPlan } from '../runtime/plan-types.js';
import { allocateEndpoint, type EndpointWish } from './endpoint.js';
import { dnsRecordsFile, writeDnsRecords } from './dns-records.js';
import { ensureBridge } from './bridge.js';
import { bridgeRecords, dropCollected, dropLease, liveLeases, netRunDir, readLease, selfOwner, withNetLock, writeLease } from './leases.js';
import { applyRuleset, renderRuleset } from './nft.js';
import { findNetwork } from './store.js';
import { DEFAULT_NETWORK, type Endpoint, type NetworkLease, type NetworkRecord, type PortMapping } from './types.js';

/** what a start asks of the network module (typed values from the container's record) */
export interface NetworkRequest {
  id: string;
  name: string;
  hostname: string;
  root: string;
  /** the networks to join, in order (requestedNetworks) */
  networks: string[];
  endpoints: Record<string, EndpointWish>;
  portBindings: Record<string, Array<{ HostIp: string; HostPort: string }>>;
  publishAll: boolean;
  exposed: string[];
}

export interface NetworkStart {
  lease: NetworkLease;
  veths: VethPlan[];
  ports: PortReservation[];
  steps: PlanStep[];
  /** on user networks: the other containers there, for /etc/hosts */
  peers: Array<{ ip: string; names: string[] }>;
  /** on a user network: the container's name file (dnsRecordsFile) its resolver answers from; empty: none */
  dnsHosts: string[];
}

/**
 * The container-side steps: lo up, each interface's addresses and up, the default route via the first gateway
 * (IPv6: via the first IPv6 network's); without `routes` (rootless: pasta's eth0 has the default route) none.
 */
export function containerSteps(endpoints: Endpoint[], routes = true): PlanStep[] {
  const steps: PlanStep[] = [{ op: 'netup', name: 'lo' }];
  for (const e of endpoints) {
    steps.push({ op: 'netaddr', name: e.ifname, address: e.ip, prefix: e.prefix });
    if (e.ip6) steps.push({ op: 'netaddr', name: e.ifname, address: e.ip6, prefix: e.prefix6! });
    steps.push({ op: 'netup', name: e.ifname });
  }
  if (!routes) return steps;
  if (endpoints[0]) steps.push({ op: 'netroute', gateway: endpoints[0].gateway });
  const v6 = endpoints.find((e) => e.gateway6);
  if (v6) steps.push({ op: 'netroute', gateway: v6.gateway6! });
  return steps;
}

function canBind(protocol: string, hostIp: string, port: number): Promise<boolean> {
  if (protocol !== 'tcp') return Promise.resolve(true);
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen({ port, host: hostIp || '0.0.0.0', exclusive: true, ipv6Only: hostIp.includes(':') }, () => s.close(() => resolve(true)));
  });
}

/**
 * The host ports a start publishes: the bindings given, -P's for the exposed ports; `held` are other containers'.
 * With `ipv6` (the container has an IPv6 address), a binding without a host address is published on `::` too, on
 * the same port, as docker does; an IPv6 host address needs one.
 */
export async function resolvePorts(r: Pick<NetworkRequest, 'portBindings' | 'publishAll' | 'exposed'>, held: Set<string>, ipv6 = false): Promise<PortMapping[]> {
  const wanted: Array<[string, { HostIp: string; HostPort: string }]> = [];
  for (const [k, list] of Object.entries(r.portBindings)) for (const b of list) wanted.push([k, b]);
  if (r.publishAll) for (const k of r.exposed) if (!r.portBindings[k]) wanted.push([k, { HostIp: '', HostPort: '' }]);
  const out: PortMapping[] = [];
  for (const [key, b] of wanted) {
    const [cport, proto] = key.split('/') as [string, PortMapping['protocol']];
    const hostIp = b.HostIp || '0.0.0.0';
    const twin = ipv6 && !b.HostIp;
    if (hostIp.includes(':') && !ipv6) throw new TsdockError(`publishing [${hostIp}]:${b.HostPort || key}: the container has no IPv6 address (its networks were not created with --ipv6)`);
    const [lo, hi] = b.HostPort ? b.HostPort.split('-').map(Number) as [number, number?] : [32768, 60999];
    const last = hi ?? lo;
    if (b.HostPort && hi === undefined && held.has(`${proto}/${lo}`)) throw new TsdockError(`Bind for ${hostIp}:${lo} failed: port is already allocated`);
    let chosen: number | undefined;
    const start = b.HostPort ? lo : lo + Math.floor(Math.random() * (last - lo + 1));
    for (let i = 0; i <= last - lo && chosen === undefined; i++) {
      const p = lo + ((start - lo + i) % (last - lo + 1));
      if (held.has(`${proto}/${p}`)) continue;
      if (!b.HostPort || hi !== undefined) {
        if ((await canBind(proto, hostIp, p)) && (!twin || (await canBind(proto, '::', p)))) chosen = p;
      } else chosen = p;
    }
    if (chosen === undefined) throw new TsdockError(`publishing ${key}: no free host port${b.HostPort ? ` in ${b.HostPort}` : ''}`);
    held.add(`${proto}/${chosen}`);
    out.push({ protocol: proto, hostIp, hostPort: chosen, containerPort: Number(cport) });
    if (twin) out.push({ protocol: proto, hostIp: '::', hostPort: chosen, containerPort: Number(cport) });
  }
  return out;
}

/** the endpoint settings a request gives for network `n` (docker's `default` for the default network) */
export function wishFor(r: Pick<NetworkRequest, 'endpoints'>, n: NetworkRecord): EndpointWish | undefined {
  return r.endpoints[n.Name] ?? (n.Name === DEFAULT_NETWORK ? r.endpoints.default : undefined);
}

/** the host ports other containers hold (`proto/port`), for resolvePorts */
export function heldPorts(others: NetworkLease[]): Set<string> {
  return new Set(others.flatMap((l) => l.ports.map((p) => `${p.protocol}/${p.hostPort}`)));
}

/**
 * What a start's plan and files take from its endpoints: the veths, the other containers on its user networks (both
 * addresses) for /etc/hosts, and its resolver's name file when it is on a user network.
 */
export function startParts(dir: string, id: string, endpoints: Endpoint[], others: NetworkLease[]): Pick<NetworkStart, 'veths' | 'peers' | 'dnsHosts'> {
  const userIds = new Set(endpoints.filter((e) => e.names.length).map((e) => e.networkId));
  const peers = others.flatMap((l) => l.endpoints.filter((e) => userIds.has(e.networkId) && e.names.length).flatMap((e) => [{ ip: e.ip, names: e.names }, ...(e.ip6 ? [{ ip: e.ip6, names: e.names }] : [])]));
  return {
    veths: endpoints.map((e) => ({ host: e.hostIf, peer: e.ifname, mac: e.mac, bridge: e.bridge, mtu: 0 })),
    peers,
    dnsHosts: userIds.size ? [dnsRecordsFile(dir, id)] : [],
  };
}

/** Allocate and record everything a start needs (under the host-wide lock); the caller puts it into the plan. */
export async function connectForStart(r: NetworkRequest, env: NodeJS.ProcessEnv): Promise<NetworkStart> {
  const nets: NetworkRecord[] = [];
  for (const n of r.networks) nets.push(await findNetwork(r.root, n, env));
  const dir = netRunDir(env);
  return withNetLock(dir, async () => {
    const { live, collected } = liveLeases(dir);
    const others = live.filter((l) => l.containerId !== r.id);
    let render = collected.some((l) => l.ports.length > 0) || Boolean(readLease(dir, r.id)?.ports.length);
    const endpoints: Endpoint[] = [];
    for (const [i, n] of nets.entries()) {
      if (await ensureBridge(n, dir)) render = true;
      endpoints.push(allocateEndpoint(n, `eth${i}`, others, wishFor(r, n), r));
    }
    const ports = await resolvePorts(r, heldPorts(others), endpoints.some((e) => e.ip6));
    const lease: NetworkLease = { containerId: r.id, root: r.root, owner: selfOwner(), endpoints, ports };
    await writeLease(dir, lease);
    if (ports.length) render = true;
    if (render) await applyRuleset(renderRuleset(bridgeRecords(dir), [...others, lease]), dir);
    dropCollected(dir, collected);
    writeDnsRecords(dir, [...others, lease]);
    return {
      lease,
      ...startParts(dir, r.id, endpoints, others),
      ports: ports.map((p) => ({ protocol: p.protocol, hostIp: p.hostIp, hostPort: p.hostPort })),
      steps: containerSteps(endpoints),
    };
  });
}

/**
 * The started container's init now holds its lease (the allocating tsdock may exit). Without the lock: only
 * this process writes this lease while its owner (this process) lives, and others only read or drop it.
 */
export async function claimLease(id: string, pid: number, env: NodeJS.ProcessEnv): Promise<void> {
  const dir = netRunDir(env);
  const lease = readLease(dir, id);
  if (lease) await writeLease(dir, { ...lease, owner: selfOwner(pid) });
}

/**
 * Release a container's lease (stop, rm, a failed start); re-renders the firewall when it held ports. Returns the
 * endpoints it had (none when it held no lease).
 */
export async function disconnect(id: string, env: NodeJS.ProcessEnv): Promise<Endpoint[]> {
  const dir = netRunDir(env);
  if (!fs.existsSync(path.join(dir, 'leases', `${id}.json`))) return [];
  return withNetLock(dir, async () => {
    const gone = dropLease(dir, id);
    const { live, collected } = liveLeases(dir);
    if (gone?.ports.length || collected.some((l) => l.ports.length)) await applyRuleset(renderRuleset(bridgeRecords(dir), live), dir);
    dropCollected(dir, collected);
    writeDnsRecords(dir, live);
    return gone?.endpoints ?? [];
  });
}

/** `network reload`: the firewall again from the bridges and live leases (after a flush of the ruleset). */
export async function reloadFirewall(env: NodeJS.ProcessEnv): Promise<string[]> {
  const dir = netRunDir(env);
  return withNetLock(dir, async () => {
    const { live, collected } = liveLeases(dir);
    await applyRuleset(renderRuleset(bridgeRecords(dir), live), dir);
    dropCollected(dir, collected);
    return live.map((l) => l.containerId);
  });
}
