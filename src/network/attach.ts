/**
 * A container's network at each start, and its release: the leases (addresses, ports) under the host-wide net
 * lock, the bridges made on first use, the firewall re-rendered when ports or bridges changed, and what the
 * executor's plan needs (veth pairs, published ports to hold, the container-side steps) plus the /etc/hosts and
 * /etc/resolv.conf contents for this run. Pure decisions are in cidr.ts and nft.ts; this file reads as the steps.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { TsdockError } from '../errors.js';
import type { PlanStep, PortReservation, VethPlan } from '../runtime/plan-types.js';
import { contains, firstFree, formatIPv4, macFor, parseIPv4, parseSubnet } from './cidr.js';
import { ensureBridge } from './bridge.js';
import { bridgeRecords, dropCollected, dropLease, liveLeases, netRunDir, readLease, selfOwner, withNetLock, writeLease } from './leases.js';
import { applyRuleset, renderRuleset } from './nft.js';
import { findNetwork } from './store.js';
import { bridgeOf, DEFAULT_NETWORK, type Endpoint, type NetworkLease, type NetworkRecord, type PortMapping } from './types.js';

/** what a start asks of the network module (typed values from the container's record) */
export interface NetworkRequest {
  id: string;
  name: string;
  hostname: string;
  root: string;
  /** the networks to join, in order (requestedNetworks) */
  networks: string[];
  endpoints: Record<string, { IPAMConfig?: { IPv4Address?: string }; Aliases?: string[]; MacAddress?: string }>;
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
  /** the user networks' name files (dnsRecordsFile): the container's resolver answers from them; empty: none */
  dnsHosts: string[];
}

const randomHex = (n: number) => crypto.randomBytes(Math.ceil(n / 2)).toString('hex').slice(0, n);

/** The container-side steps: lo up, each interface's address and up, the default route via the first gateway. */
export function containerSteps(endpoints: Endpoint[]): PlanStep[] {
  const steps: PlanStep[] = [{ op: 'netup', name: 'lo' }];
  for (const e of endpoints) steps.push({ op: 'netaddr', name: e.ifname, address: e.ip, prefix: e.prefix }, { op: 'netup', name: e.ifname });
  if (endpoints[0]) steps.push({ op: 'netroute', gateway: endpoints[0].gateway });
  return steps;
}

function canBind(protocol: string, hostIp: string, port: number): Promise<boolean> {
  if (protocol !== 'tcp') return Promise.resolve(true);
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen({ port, host: hostIp || '0.0.0.0', exclusive: true }, () => s.close(() => resolve(true)));
  });
}

/** The host ports a start publishes: the bindings given, -P's for the exposed ports; `held` are other containers'. */
export async function resolvePorts(r: Pick<NetworkRequest, 'portBindings' | 'publishAll' | 'exposed'>, held: Set<string>): Promise<PortMapping[]> {
  const wanted: Array<[string, { HostIp: string; HostPort: string }]> = [];
  for (const [k, list] of Object.entries(r.portBindings)) for (const b of list) wanted.push([k, b]);
  if (r.publishAll) for (const k of r.exposed) if (!r.portBindings[k]) wanted.push([k, { HostIp: '', HostPort: '' }]);
  const out: PortMapping[] = [];
  for (const [key, b] of wanted) {
    const [cport, proto] = key.split('/') as [string, PortMapping['protocol']];
    const hostIp = b.HostIp || '0.0.0.0';
    const [lo, hi] = b.HostPort ? b.HostPort.split('-').map(Number) as [number, number?] : [32768, 60999];
    const last = hi ?? lo;
    if (b.HostPort && hi === undefined && held.has(`${proto}/${lo}`)) throw new TsdockError(`Bind for ${hostIp}:${lo} failed: port is already allocated`);
    let chosen: number | undefined;
    const start = b.HostPort ? lo : lo + Math.floor(Math.random() * (last - lo + 1));
    for (let i = 0; i <= last - lo && chosen === undefined; i++) {
      const p = lo + ((start - lo + i) % (last - lo + 1));
      if (held.has(`${proto}/${p}`)) continue;
      if (!b.HostPort || hi !== undefined) {
        if (await canBind(proto, hostIp, p)) chosen = p;
      } else chosen = p;
    }
    if (chosen === undefined) throw new TsdockError(`publishing ${key}: no free host port${b.HostPort ? ` in ${b.HostPort}` : ''}`);
    held.add(`${proto}/${chosen}`);
    out.push({ protocol: proto, hostIp, hostPort: chosen, containerPort: Number(cport) });
  }
  return out;
}

function endpointNames(r: NetworkRequest, aliases: string[]): string[] {
  return [...new Set([r.name, r.hostname, r.id.slice(0, 12), ...aliases].filter(Boolean))];
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
      const cfg = n.IPAM.Config[0]!;
      const subnet = parseSubnet(cfg.Subnet);
      const gw = parseIPv4(cfg.Gateway)!;
      const used = new Set<number>([gw]);
      for (const l of others) for (const e of l.endpoints) if (e.networkId === n.Id) used.add(parseIPv4(e.ip)!);
      const want = r.endpoints[n.Name] ?? (n.Name === DEFAULT_NETWORK ? r.endpoints.default : undefined);
      let ip: number | undefined;
      if (want?.IPAMConfig?.IPv4Address) {
        ip = parseIPv4(want.IPAMConfig.IPv4Address);
        if (ip === undefined || !contains(subnet, ip)) throw new TsdockError(`invalid address ${want.IPAMConfig.IPv4Address}: it does not belong to network ${n.Name} (${cfg.Subnet})`);
        if (used.has(ip)) throw new TsdockError(`failed to allocate ${want.IPAMConfig.IPv4Address} on network ${n.Name}: Address already in use`);
      } else {
        ip = firstFree(subnet, used, cfg.IPRange ? parseSubnet(cfg.IPRange) : subnet);
        if (ip === undefined) throw new TsdockError(`no available IPv4 addresses on network ${n.Name} (${cfg.Subnet})`);
      }
      const aliases = n.Name === DEFAULT_NETWORK ? [] : (want?.Aliases ?? []);
      endpoints.push({
        network: n.Name,
        networkId: n.Id,
        bridge: bridgeOf(n),
        ifname: `eth${i}`,
        hostIf: `veth${randomHex(8)}`,
        ip: formatIPv4(ip),
        prefix: subnet.prefix,
        gateway: cfg.Gateway,
        mac: want?.MacAddress ?? macFor(ip),
        aliases,
        names: n.Name === DEFAULT_NETWORK ? [] : endpointNames(r, aliases),
      });
    }
    const held = new Set(others.flatMap((l) => l.ports.map((p) => `${p.protocol}/${p.hostPort}`)));
    const ports = await resolvePorts(r, held);
    const lease: NetworkLease = { containerId: r.id, root: r.root, owner: selfOwner(), endpoints, ports };
    await writeLease(dir, lease);
    if (ports.length) render = true;
    if (render) await applyRuleset(renderRuleset(bridgeRecords(dir), [...others, lease]), dir);
    dropCollected(dir, collected);
    await writeDnsRecords(dir, [...others, lease]);
    const userIds = new Set(endpoints.filter((e) => e.network !== DEFAULT_NETWORK).map((e) => e.networkId));
    const peers = others.flatMap((l) => l.endpoints.filter((e) => userIds.has(e.networkId) && e.names.length).map((e) => ({ ip: e.ip, names: e.names })));
    return {
      lease,
      veths: endpoints.map((e) => ({ host: e.hostIf, peer: e.ifname, mac: e.mac, bridge: e.bridge, mtu: 0 })),
      ports: ports.map((p) => ({ protocol: p.protocol, hostIp: p.hostIp, hostPort: p.hostPort })),
      steps: containerSteps(endpoints),
      peers,
      dnsHosts: [...userIds].map((nid) => dnsRecordsFile(dir, nid)),
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

/** Release a container's lease (stop, rm, a failed start); re-renders the firewall when it held ports. */
export async function disconnect(id: string, env: NodeJS.ProcessEnv): Promise<void> {
  const dir = netRunDir(env);
  if (!fs.existsSync(path.join(dir, 'leases', `${id}.json`))) return;
  await withNetLock(dir, async () => {
    const gone = dropLease(dir, id);
    const { live, collected } = liveLeases(dir);
    if (gone?.ports.length || collected.some((l) => l.ports.length)) await applyRuleset(renderRuleset(bridgeRecords(dir), live), dir);
    dropCollected(dir, collected);
    await writeDnsRecords(dir, live);
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

/** The names each user network's resolver answers: `<netrun>/dns/<network id>.hosts`, replaced whole
 * (rename) so a resolver never reads half a file. */
export function dnsRecordsFile(dir: string, networkId: string): string {
  return path.join(dir, 'dns', `${networkId}.hosts`);
}

async function writeDnsRecords(dir: string, leases: NetworkLease[]): Promise<void> {
  const byNet = new Map<string, string[]>();
  for (const l of leases) for (const e of l.endpoints) if (e.names.length) byNet.set(e.networkId, [...(byNet.get(e.networkId) ?? []), `${e.ip} ${e.names.join(' ')}`]);
  fs.mkdirSync(path.join(dir, 'dns'), { recursive: true, mode: 0o700 });
  const existing = fs.readdirSync(path.join(dir, 'dns')).filter((f) => f.endsWith('.hosts'));
  // a network no live container is on answers nothing (a resolver treats a missing file as empty)
  for (const f of existing) if (!byNet.has(f.slice(0, -'.hosts'.length))) fs.rmSync(path.join(dir, 'dns', f), { force: true });
  for (const [id, lines] of byNet) replaceFile(dnsRecordsFile(dir, id), `${lines.sort().join('\n')}\n`);
}

function replaceFile(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text, { mode: 0o644 });
  fs.renameSync(tmp, file);
}
