/**
 * One container's endpoint on one network: its address from the network's IPAM config (the one asked for, or the
 * first free one), its interface names and MAC, and its names for DNS. Pure but for the random host interface
 * name; the caller holds the net lock and passes the other live leases.
 */
import { randomBytes } from '../sys/random.js';
import { TsdockError } from '../errors.js';
import { contains, firstFree, formatIPv4, macFor, parseIPv4, parseSubnet } from './cidr.js';
import { contains6, firstFree6, formatIPv6, parseIPv6, parseSubnet6 } from './cidr6.js';
import { bridgeOf, DEFAULT_NETWORK, ipv4Config, ipv6Config, type Endpoint, type NetworkLease, type NetworkRecord } from './types.js';

/** docker's EndpointSettings as far as an allocation reads them */
export interface EndpointWish {
  IPAMConfig?: { IPv4Address?: string; IPv6Address?: string };
  Aliases?: string[];
  MacAddress?: string;
}

/** who the endpoint belongs to: its names on a user network come from these */
export interface EndpointOwner {
  id: string;
  name: string;
  hostname: string;
}

const randomHex = (n: number) => randomBytes(Math.ceil(n / 2)).toString('hex').slice(0, n);

function endpointNames(o: EndpointOwner, aliases: string[]): string[] {
  return [...new Set([o.name, o.hostname, o.id.slice(0, 12), ...aliases].filter(Boolean))];
}

/** The first `ethN` not taken by the container's current endpoints. */
export function nextIfname(taken: Endpoint[]): string {
  const names = new Set(taken.map((e) => e.ifname));
  let i = 0;
  while (names.has(`eth${i}`)) i++;
  return `eth${i}`;
}

/** Allocate an endpoint on `n` that no other live lease holds an address of. */
export function allocateEndpoint(n: NetworkRecord, ifname: string, others: NetworkLease[], want: EndpointWish | undefined, owner: EndpointOwner): Endpoint {
  const cfg = ipv4Config(n);
  const subnet = parseSubnet(cfg.Subnet);
  const used = new Set<number>([parseIPv4(cfg.Gateway)!]);
  for (const l of others) for (const e of l.endpoints) if (e.networkId === n.Id) used.add(parseIPv4(e.ip)!);
  let ip: number | undefined;
  if (want?.IPAMConfig?.IPv4Address) {
    ip = parseIPv4(want.IPAMConfig.IPv4Address);
    if (ip === undefined || !contains(subnet, ip)) throw new TsdockError(`invalid address ${want.IPAMConfig.IPv4Address}: it does not belong to network ${n.Name} (${cfg.Subnet})`);
    if (used.has(ip)) throw new TsdockError(`failed to allocate ${want.IPAMConfig.IPv4Address} on network ${n.Name}: Address already in use`);
  } else {
    ip = firstFree(subnet, used, cfg.IPRange ? parseSubnet(cfg.IPRange) : subnet);
    if (ip === undefined) throw new TsdockError(`no available IPv4 addresses on network ${n.Name} (${cfg.Subnet})`);
  }
  const user = n.Name !== DEFAULT_NETWORK;
  const aliases = user ? (want?.Aliases ?? []) : [];
  return {
    network: n.Name,
    networkId: n.Id,
    bridge: bridgeOf(n),
    ifname,
    hostIf: `veth${randomHex(8)}`,
    ip: formatIPv4(ip),
    prefix: subnet.prefix,
    gateway: cfg.Gateway,
    mac: want?.MacAddress ?? macFor(ip),
    aliases,
    names: user ? endpointNames(owner, aliases) : [],
    ...allocate6(n, others, want),
  };
}

/** the IPv6 address on a network with --ipv6: the one asked for (--ip6), else the first free one */
function allocate6(n: NetworkRecord, others: NetworkLease[], want: EndpointWish | undefined): Pick<Endpoint, 'ip6' | 'prefix6' | 'gateway6'> {
  const cfg = ipv6Config(n);
  const asked = want?.IPAMConfig?.IPv6Address;
  if (!cfg) {
    if (asked) throw new TsdockError(`invalid address ${asked}: network ${n.Name} has no IPv6 (network create --ipv6)`);
    return {};
  }
  const subnet = parseSubnet6(cfg.Subnet);
  const used = new Set<bigint>([parseIPv6(cfg.Gateway)!]);
  for (const l of others) for (const e of l.endpoints) if (e.networkId === n.Id && e.ip6) used.add(parseIPv6(e.ip6)!);
  let ip: bigint | undefined;
  if (asked) {
    ip = parseIPv6(asked);
    if (ip === undefined || !contains6(subnet, ip)) throw new TsdockError(`invalid address ${asked}: it does not belong to network ${n.Name} (${cfg.Subnet})`);
    if (used.has(ip)) throw new TsdockError(`failed to allocate ${asked} on network ${n.Name}: Address already in use`);
  } else {
    ip = firstFree6(subnet, used);
    if (ip === undefined) throw new TsdockError(`no available IPv6 addresses on network ${n.Name} (${cfg.Subnet})`);
  }
  return { ip6: formatIPv6(ip), prefix6: subnet.prefix, gateway6: cfg.Gateway };
}
