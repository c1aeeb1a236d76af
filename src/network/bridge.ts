/**
 * A network's bridge on the host: made on first use (after a boot, or after `network create`) with one
 * `ip -batch -` (one fork for the link, its gateway address and up; a per-start veth is the executor's, over
 * netlink), then IPv4 forwarding on and route_localnet on this bridge only (127.0.0.1:PORT reaches containers).
 */
import fs from 'node:fs';
import { parseSubnet } from './cidr.js';
import { runHelper } from './helpers.js';
import { writeBridgeRecord, type BridgeRecord } from './leases.js';
import { bridgeOf, ipv4Config, ipv6Config, type NetworkRecord } from './types.js';

export function bridgeExists(name: string): boolean {
  return fs.existsSync(`/sys/class/net/${name}`);
}

function sysctl(key: string, value: string): void {
  const file = `/proc/sys/${key.replace(/\./g, '/')}`;
  try {
    if (fs.readFileSync(file, 'utf8').trim() === value) return;
  } catch {
    // written below, which names the error
  }
  fs.writeFileSync(file, value);
}

export function bridgeRecordOf(n: NetworkRecord): BridgeRecord {
  const c = ipv4Config(n);
  const c6 = ipv6Config(n);
  return { bridge: bridgeOf(n), network: n.Name, subnet: c.Subnet, gateway: c.Gateway, internal: n.Internal, ...(c6 ? { subnet6: c6.Subnet, gateway6: c6.Gateway } : {}) };
}

/** The `ip -batch` that makes a network's bridge: the link, its gateway addresses (IPv6: nodad), up. */
export function bridgeBatch(b: BridgeRecord): string {
  const v6 = b.subnet6 && b.gateway6 ? [`addr add ${b.gateway6}/${b.subnet6.split('/')[1]} dev ${b.bridge} nodad`] : [];
  return `${[`link add ${b.bridge} type bridge`, `addr add ${b.gateway}/${parseSubnet(b.subnet).prefix} dev ${b.bridge}`, ...v6, `link set ${b.bridge} up`].join('\n')}\n`;
}

/** Make the bridge when it is missing (call under the net lock). Returns true when it was made now. */
export async function ensureBridge(n: NetworkRecord, netRun: string): Promise<boolean> {
  const b = bridgeRecordOf(n);
  if (bridgeExists(b.bridge)) return false;
  await runHelper('ip', ['-batch', '-'], bridgeBatch(b), `create the bridge ${b.bridge} of network ${n.Name} (Debian: apt-get install iproute2)`);
  sysctl('net.ipv4.ip_forward', '1');
  sysctl(`net.ipv4.conf.${b.bridge}.route_localnet`, '1');
  // as docker does for an IPv6 network: the host forwards IPv6 (the containers' egress)
  if (b.subnet6) sysctl('net.ipv6.conf.all.forwarding', '1');
  await writeBridgeRecord(netRun, b);
  return true;
}

/** `network rm`: the bridge goes (its veths are gone with their containers); a missing one is fine. */
export async function removeBridge(name: string): Promise<void> {
  if (!bridgeExists(name)) return;
  await runHelper('ip', ['link', 'delete', name], undefined, `remove the bridge ${name}`);
}
