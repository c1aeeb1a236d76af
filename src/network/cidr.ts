/**
 * IPv4 addresses and subnets as numbers (pure): parsing docker's `--subnet`, `--gateway`, `--ip-range`, `--ip`,
 * and the arithmetic IPAM needs. IPv6 is cidr6.ts.
 */
import { UsageError } from '../errors.js';

export interface Subnet {
  /** the network address */
  base: number;
  prefix: number;
}

export function parseIPv4(s: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

export function formatIPv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function maskOf(prefix: number): number {
  return prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0;
}

/** "10.90.0.0/16" → the subnet; host bits set are refused as docker does ("invalid subnet ... : it should be ...") */
export function parseSubnet(s: string, what = 'subnet'): Subnet {
  const m = /^([^/]+)\/(\d{1,2})$/.exec(s);
  const ip = m ? parseIPv4(m[1]!) : undefined;
  const prefix = m ? Number(m[2]) : NaN;
  if (ip === undefined || !(prefix >= 0 && prefix <= 32)) {
    if (s.includes(':')) throw new UsageError(`invalid ${what} ${s}: an IPv4 subnet is expected here`);
    throw new UsageError(`invalid CIDR address: ${s}`);
  }
  const base = (ip & maskOf(prefix)) >>> 0;
  if (base !== ip) throw new UsageError(`invalid ${what} ${s}: it should be ${formatSubnet({ base, prefix })}`);
  return { base, prefix };
}

export function formatSubnet(s: Subnet): string {
  return `${formatIPv4(s.base)}/${s.prefix}`;
}

export function contains(s: Subnet, ip: number): boolean {
  return ((ip & maskOf(s.prefix)) >>> 0) === s.base;
}

export function overlaps(a: Subnet, b: Subnet): boolean {
  const p = Math.min(a.prefix, b.prefix);
  return ((a.base & maskOf(p)) >>> 0) === ((b.base & maskOf(p)) >>> 0);
}

/** the last address (broadcast) */
export function lastOf(s: Subnet): number {
  return (s.base | (~maskOf(s.prefix) >>> 0)) >>> 0;
}

/**
 * The lowest free address of `range` (default the whole subnet), skipping the network and broadcast addresses and
 * every address in `used`; undefined when none is left.
 */
export function firstFree(subnet: Subnet, used: ReadonlySet<number>, range: Subnet = subnet): number | undefined {
  const lo = Math.max(range.base, subnet.base + 1);
  const hi = Math.min(lastOf(range), lastOf(subnet) - 1);
  for (let ip = lo; ip <= hi; ip++) if (!used.has(ip)) return ip;
  return undefined;
}

/** A MAC address derived from an IPv4 address, as docker does: 02:42 then the 4 address bytes. */
export function macFor(ip: number): string {
  return ['02', '42', ...[ip >>> 24, (ip >>> 16) & 255, (ip >>> 8) & 255, ip & 255].map((b) => b.toString(16).padStart(2, '0'))].join(':');
}
