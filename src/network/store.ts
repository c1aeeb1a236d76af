/**
 * Network definitions: `<root>/networks/<name>.json` (docker's inspect shape), written atomically under
 * `<root>/networks/.lock`. The default network `bridge` is written on first use from the configuration
 * (config.ts). Subnets for new networks come from a pool (10.91.N.0/24 by default) and skip every subnet another
 * network uses or the host already routes (/proc/net/route), so a new network never shadows a LAN.
 */
import { networkEvent } from './events.js';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { TsdockError, UsageError } from '../errors.js';
import { writeFileAtomic } from '../state/atomic.js';
import { withLock } from '../state/lock.js';
import { formatIPv4, formatSubnet, contains, overlaps, parseIPv4, parseSubnet, type Subnet } from './cidr.js';
import { contains6, formatIPv6, formatSubnet6, overlaps6, parseIPv6, parseSubnet6, randomUla, type Subnet6 } from './cidr6.js';
import { networkConfig, type NetworkConfig } from './config.js';
import { BRIDGE_NAME_OPTION, DEFAULT_BRIDGE, DEFAULT_NETWORK, ipv4Config, ipv6Config, type NetworkCreateOptions, type NetworkRecord } from './types.js';

export class NoSuchNetworkError extends TsdockError {
  constructor(ref: string) {
    super(`network ${ref} not found`, { exitCode: 1 });
  }
}

const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

export const networksDir = (root: string) => path.join(root, 'networks');
const fileOf = (root: string, name: string) => path.join(networksDir(root), `${name}.json`);

export function withNetworksLock<T>(root: string, fn: () => Promise<T>): Promise<T> {
  return withLock(path.join(networksDir(root), '.lock'), 'exclusive', fn);
}

function readRecord(file: string): NetworkRecord | undefined {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as NetworkRecord;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new TsdockError(`reading network ${file}: ${(err as Error).message}`, { cause: err });
  }
}

/** every stored network (the default one only once it was used or listed) */
function stored(root: string): NetworkRecord[] {
  let names: string[];
  try {
    names = fs.readdirSync(networksDir(root)).filter((f) => f.endsWith('.json'));
  } catch {
    return [];
  }
  return names.sort().flatMap((f) => readRecord(path.join(networksDir(root), f)) ?? []);
}

function newRecord(name: string, cfg: IpamShape, extra: Partial<NetworkRecord> = {}): NetworkRecord {
  return {
    Name: name,
    Id: crypto.randomBytes(32).toString('hex'),
    Created: new Date().toISOString(),
    Scope: 'local',
    Driver: 'bridge',
    EnableIPv6: false,
    IPAM: { Driver: 'default', Options: {}, Config: [cfg] },
    Internal: false,
    Attachable: false,
    Ingress: false,
    ConfigFrom: { Network: '' },
    ConfigOnly: false,
    Options: {},
    Labels: {},
    ...extra,
  };
}
type IpamShape = NetworkRecord['IPAM']['Config'][number];

/** The default network, written from the configuration the first time anything needs it. */
async function ensureDefault(root: string, cfg: NetworkConfig): Promise<NetworkRecord> {
  const have = readRecord(fileOf(root, DEFAULT_NETWORK));
  if (have) return have;
  return withNetworksLock(root, async () => {
    const again = readRecord(fileOf(root, DEFAULT_NETWORK));
    if (again) return again;
    const subnet = parseSubnet(cfg.defaultSubnet, 'default_subnet');
    const rec = newRecord(DEFAULT_NETWORK, { Subnet: formatSubnet(subnet), Gateway: formatIPv4(subnet.base + 1) }, { Options: { [BRIDGE_NAME_OPTION]: DEFAULT_BRIDGE } });
    await writeFileAtomic(fileOf(root, DEFAULT_NETWORK), `${JSON.stringify(rec, null, 2)}\n`);
    return rec;
  });
}

export async function listNetworks(root: string, env: NodeJS.ProcessEnv): Promise<NetworkRecord[]> {
  await ensureDefault(root, networkConfig(env));
  return stored(root);
}

/** By name, full id or unique id prefix (docker's lookup order). */
export async function findNetwork(root: string, ref: string, env: NodeJS.ProcessEnv): Promise<NetworkRecord> {
  if (ref === DEFAULT_NETWORK) return ensureDefault(root, networkConfig(env));
  const all = stored(root);
  const byName = all.find((n) => n.Name === ref) ?? all.find((n) => n.Id === ref);
  if (byName) return byName;
  const byPrefix = /^[0-9a-f]+$/.test(ref) ? all.filter((n) => n.Id.startsWith(ref)) : [];
  if (byPrefix.length === 1) return byPrefix[0]!;
  if (byPrefix.length > 1) throw new TsdockError(`network ${ref} is ambiguous (${byPrefix.length} matches found based on ID prefix)`, { exitCode: 1 });
  throw new NoSuchNetworkError(ref);
}

/** The IPv4 destinations the host routes now (not the default route), from /proc/net/route. */
export function hostRoutes(text = readRoutes()): Subnet[] {
  const out: Subnet[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const le = (hex: string) => Buffer.from(hex, 'hex').readUInt32LE(0);
    const dest = le(f[1]!);
    const mask = le(f[7]!);
    if (mask === 0) continue;
    let prefix = 0;
    for (let m = mask; m; m >>>= 1) prefix += m & 1;
    out.push({ base: (dest & mask) >>> 0, prefix });
  }
  return out;
}
/** /proc/net/route's text ('' when unreadable) */
export function readRoutes(): string {
  try {
    return fs.readFileSync('/proc/net/route', 'utf8');
  } catch {
    return '';
  }
}

/** `network create`: docker's checks, a subnet from the pool when none is given, a bridge named after the id. */
export async function createNetwork(root: string, o: NetworkCreateOptions, env: NodeJS.ProcessEnv): Promise<NetworkRecord> {
  if (!NAME_RE.test(o.name)) throw new UsageError(`invalid network name "${o.name}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
  if (o.driver && o.driver !== 'bridge') throw new UsageError(`unsupported network driver "${o.driver}": tsdock has bridge networks only`);
  if ((o.subnet6 || o.gateway6) && !o.ipv6) throw new UsageError('an IPv6 subnet or gateway needs --ipv6');
  for (const k of Object.keys(o.options ?? {})) {
    if (k !== BRIDGE_NAME_OPTION && k !== 'mtu' && k !== 'com.docker.network.driver.mtu') throw new UsageError(`unknown network option "${k}" for the bridge driver`);
  }
  if ((o.gateway || o.ipRange) && !o.subnet) throw new UsageError('--gateway and --ip-range need --subnet');
  const cfg = networkConfig(env);
  const dflt = await ensureDefault(root, cfg);
  return withNetworksLock(root, async () => {
    const all = stored(root);
    if (all.some((n) => n.Name === o.name)) throw new TsdockError(`network with name ${o.name} already exists`, { exitCode: 1 });
    const taken = [...all, dflt].map((n) => parseSubnet(ipv4Config(n).Subnet));
    let subnet: Subnet;
    if (o.subnet) {
      subnet = parseSubnet(o.subnet);
      const clash = all.find((n) => overlaps(parseSubnet(ipv4Config(n).Subnet), subnet));
      if (clash) throw new TsdockError(`invalid pool request: pool overlaps with other one on this address space (network ${clash.Name})`, { exitCode: 1 });
    } else {
      subnet = pickSubnet(cfg, [...taken, ...hostRoutes()]);
    }
    const gw = o.gateway ? parseIPv4(o.gateway) : subnet.base + 1;
    if (gw === undefined) throw new UsageError(`invalid gateway address ${o.gateway}`);
    if (!contains(subnet, gw)) throw new UsageError(`invalid gateway ${o.gateway}: it is not in subnet ${formatSubnet(subnet)}`);
    const range = o.ipRange ? parseSubnet(o.ipRange, 'ip-range') : undefined;
    if (range && !(contains(subnet, range.base) && range.prefix >= subnet.prefix)) throw new UsageError(`invalid ip-range ${o.ipRange}: it is not in subnet ${formatSubnet(subnet)}`);
    const v6 = o.ipv6 ? ipv6Ipam(o, all) : undefined;
    const v4: IpamShape = { Subnet: formatSubnet(subnet), Gateway: formatIPv4(gw), ...(range ? { IPRange: formatSubnet(range) } : {}) };
    const rec = newRecord(o.name, v4, { Internal: Boolean(o.internal), Labels: o.labels ?? {}, EnableIPv6: Boolean(v6) });
    if (v6) rec.IPAM.Config.push(v6);
    const bridge = o.options?.[BRIDGE_NAME_OPTION] ?? `tsd-${rec.Id.slice(0, 11)}`;
    if (!/^[A-Za-z0-9_.-]{1,15}$/.test(bridge)) throw new UsageError(`invalid bridge name ${bridge}: at most 15 characters of [A-Za-z0-9_.-]`);
    if (all.some((n) => n.Options[BRIDGE_NAME_OPTION] === bridge) || bridge === DEFAULT_BRIDGE) throw new TsdockError(`bridge name ${bridge} is already in use`, { exitCode: 1 });
    rec.Options = { ...(o.options ?? {}), [BRIDGE_NAME_OPTION]: bridge };
    await writeFileAtomic(fileOf(root, o.name), `${JSON.stringify(rec, null, 2)}\n`);
    networkEvent(root, 'create', rec);
    return rec;
  });
}

/** --ipv6: the subnet given (not overlapping another network's) or a random ULA /64, and its gateway */
function ipv6Ipam(o: NetworkCreateOptions, all: NetworkRecord[]): IpamShape {
  const theirs = all.flatMap((n) => (ipv6Config(n) ? [parseSubnet6(ipv6Config(n)!.Subnet)] : []));
  let subnet: Subnet6;
  if (o.subnet6) {
    subnet = parseSubnet6(o.subnet6);
    const clash = all.find((n) => ipv6Config(n) && overlaps6(parseSubnet6(ipv6Config(n)!.Subnet), subnet));
    if (clash) throw new TsdockError(`invalid pool request: pool overlaps with other one on this address space (network ${clash.Name})`, { exitCode: 1 });
  } else {
    do subnet = randomUla();
    while (theirs.some((t) => overlaps6(t, subnet)));
  }
  const gw = o.gateway6 ? parseIPv6(o.gateway6) : subnet.base + 1n;
  if (gw === undefined) throw new UsageError(`invalid gateway address ${o.gateway6}`);
  if (!contains6(subnet, gw)) throw new UsageError(`invalid gateway ${o.gateway6}: it is not in subnet ${formatSubnet6(subnet)}`);
  return { Subnet: formatSubnet6(subnet), Gateway: formatIPv6(gw) };
}

function pickSubnet(cfg: NetworkConfig, taken: Subnet[]): Subnet {
  for (const pool of cfg.pools) {
    const base = parseSubnet(pool.base, 'default_subnet_pools');
    const count = 2 ** (pool.size - base.prefix);
    for (let i = 0; i < count; i++) {
      const s = { base: (base.base + i * 2 ** (32 - pool.size)) >>> 0, prefix: pool.size };
      if (!taken.some((t) => overlaps(t, s))) return s;
    }
  }
  throw new TsdockError('could not find a free subnet in the default pools: give one with --subnet', { exitCode: 1 });
}

export async function deleteNetworkRecord(root: string, n: NetworkRecord): Promise<void> {
  await fs.promises.rm(fileOf(root, n.Name), { force: true });
  networkEvent(root, 'destroy', n);
}
