/** A network's definition, stored as `<root>/networks/<name>.json` in the shape of docker's `network inspect`. */
export interface NetworkRecord {
  Name: string;
  Id: string;
  Created: string;
  Scope: 'local';
  Driver: 'bridge';
  EnableIPv6: boolean;
  IPAM: { Driver: 'default'; Options: Record<string, string>; Config: IpamConfig[] };
  Internal: boolean;
  Attachable: boolean;
  Ingress: boolean;
  ConfigFrom: { Network: string };
  ConfigOnly: boolean;
  /** com.docker.network.bridge.name: the host's bridge interface */
  Options: Record<string, string>;
  Labels: Record<string, string>;
}

export interface IpamConfig {
  Subnet: string;
  Gateway: string;
  IPRange?: string;
}

/** what `network create` asks for (typed; the CLI parses the flags) */
export interface NetworkCreateOptions {
  name: string;
  driver?: string;
  subnet?: string;
  gateway?: string;
  ipRange?: string;
  internal?: boolean;
  ipv6?: boolean;
  /** with ipv6: the IPv6 subnet (default: a random ULA /64) and its gateway (default: its first address) */
  subnet6?: string;
  gateway6?: string;
  labels?: Record<string, string>;
  options?: Record<string, string>;
}

/** The default network's name (docker's). */
export const DEFAULT_NETWORK = 'bridge';
/** The default network's bridge interface. */
export const DEFAULT_BRIDGE = 'tsdock0';
export const BRIDGE_NAME_OPTION = 'com.docker.network.bridge.name';

/** the network's IPv4 IPAM config (every network has one) and its IPv6 one (with --ipv6) */
export function ipv4Config(n: NetworkRecord): IpamConfig {
  return n.IPAM.Config.find((c) => !c.Subnet.includes(':'))!;
}
export function ipv6Config(n: NetworkRecord): IpamConfig | undefined {
  return n.EnableIPv6 ? n.IPAM.Config.find((c) => c.Subnet.includes(':')) : undefined;
}

export function bridgeOf(n: NetworkRecord): string {
  return n.Options[BRIDGE_NAME_OPTION] ?? DEFAULT_BRIDGE;
}

/** One container's attachment to one network while it runs (an IPAM lease, with what nft and DNS need). */
export interface Endpoint {
  network: string;
  networkId: string;
  bridge: string;
  /** the interface inside the container (eth0, eth1, ...) */
  ifname: string;
  /** the host end of the veth pair */
  hostIf: string;
  ip: string;
  prefix: number;
  gateway: string;
  mac: string;
  /** on an IPv6 network: the container's IPv6 address, its prefix and the gateway */
  ip6?: string;
  prefix6?: number;
  gateway6?: string;
  aliases: string[];
  /** the container's names on this network, for DNS and /etc/hosts: its name, short id, aliases */
  names: string[];
}

/** A published port as it is held: the host side and where it goes. */
export interface PortMapping {
  protocol: 'tcp' | 'udp' | 'sctp';
  hostIp: string;
  hostPort: number;
  containerPort: number;
}

/**
 * A running container's network state, host-wide (the bridge and its addresses are the host's, whatever --root):
 * `<netrun>/endpoints/<id>.json`. Its presence is the lease of its addresses; `owner` says who holds it.
 */
export interface NetworkLease {
  containerId: string;
  /** the store it belongs to (so another --root does not collect it) */
  root: string;
  /** the process whose life holds the lease: the allocating tsdock until the start, then the container's init */
  owner: { pid: number; startTime: number };
  endpoints: Endpoint[];
  ports: PortMapping[];
}
