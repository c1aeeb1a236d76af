/**
 * IPv6 addresses and subnets as bigints (pure): `--subnet fd../64`, `--gateway`, `--ip6`, the IPAM arithmetic,
 * RFC 5952 text (lowercase, the longest run of zero groups as `::`), and a random RFC 4193 ULA /64 for
 * `network create --ipv6` without a subnet (as podman does).
 */
import crypto from 'node:crypto';
import { UsageError } from '../errors.js';

export interface Subnet6 {
  base: bigint;
  prefix: number;
}

const ALL = (1n << 128n) - 1n;

export function parseIPv6(s: string): bigint | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(s) || s.split('::').length > 2) return undefined;
  let text = s;
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (v4) {
    const b = v4.slice(1).map(Number);
    if (b.some((x) => x > 255)) return undefined;
    text = `${text.slice(0, v4.index)}${((b[0]! << 8) | b[1]!).toString(16)}:${((b[2]! << 8) | b[3]!).toString(16)}`;
  }
  const [head, rest] = text.includes('::') ? text.split('::') as [string, string] : [text, undefined];
  const parse = (p: string) => (p === '' ? [] : p.split(':').map((g) => (/^[0-9a-fA-F]{1,4}$/.test(g) ? parseInt(g, 16) : NaN)));
  const h = parse(head);
  const r = rest === undefined ? [] : parse(rest);
  const fixed = h.length + r.length;
  if ([...h, ...r].some(Number.isNaN)) return undefined;
  if (rest === undefined ? fixed !== 8 : fixed > 7) return undefined;
  const groups = [...h, ...Array(8 - fixed).fill(0), ...r];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
}

export function formatIPv6(n: bigint): string {
  const g = Array.from({ length: 8 }, (_, i) => Number((n >> BigInt(112 - 16 * i)) & 0xffffn));
  let best = -1;
  let len = 1;
  for (let i = 0; i < 8; i++) {
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > len) [best, len] = [i, j - i];
  }
  const hex = g.map((x) => x.toString(16));
  if (best < 0) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + len).join(':')}`;
}

const maskOf = (prefix: number) => (prefix === 0 ? 0n : (ALL << BigInt(128 - prefix)) & ALL);

/** "fd00:1::/64" → the subnet; host bits set are refused as docker does */
export function parseSubnet6(s: string, what = 'subnet'): Subnet6 {
  const m = /^([^/]+)\/(\d{1,3})$/.exec(s);
  const ip = m ? parseIPv6(m[1]!) : undefined;
  const prefix = m ? Number(m[2]) : NaN;
  if (ip === undefined || !(prefix >= 0 && prefix <= 128)) throw new UsageError(`invalid CIDR address: ${s}`);
  const base = ip & maskOf(prefix);
  if (base !== ip) throw new UsageError(`invalid ${what} ${s}: it should be ${formatSubnet6({ base, prefix })}`);
  if (prefix > 120) throw new UsageError(`invalid ${what} ${s}: the prefix must be /120 or shorter`);
  return { base, prefix };
}

export function formatSubnet6(s: Subnet6): string {
  return `${formatIPv6(s.base)}/${s.prefix}`;
}

export function contains6(s: Subnet6, ip: bigint): boolean {
  return (ip & maskOf(s.prefix)) === s.base;
}

export function overlaps6(a: Subnet6, b: Subnet6): boolean {
  const m = maskOf(Math.min(a.prefix, b.prefix));
  return (a.base & m) === (b.base & m);
}

/** The lowest free address after the subnet's first (the gateway's by default), not in `used`. */
export function firstFree6(s: Subnet6, used: ReadonlySet<bigint>): bigint | undefined {
  const last = s.base | (~maskOf(s.prefix) & ALL);
  for (let ip = s.base + 1n; ip <= last; ip++) if (!used.has(ip)) return ip;
  return undefined;
}

/** A random unique local /64 (RFC 4193: fd, a 40-bit global id, subnet 0). */
export function randomUla(bytes = crypto.randomBytes(5)): Subnet6 {
  const id = [...bytes].reduce((acc, b) => (acc << 8n) | BigInt(b), 0n);
  return { base: ((0xfdn << 120n) | (id << 80n)) & ALL, prefix: 64 };
}

export const isIPv6Text = (s: string) => s.includes(':');
