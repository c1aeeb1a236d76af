/**
 * tsdock's firewall: one nftables table, `ip tsdock` (and `ip6 tsdock` for IPv6 networks: render6), rendered whole from the bridges and the live leases
 * (renderRuleset, pure) and applied atomically with `nft -j -f -` (add, delete and re-add the table in one
 * transaction). No other table is touched, so a host firewall and tsdock's rules do not edit each other; after
 * a flush of the whole ruleset, `tsdock network reload` renders it again.
 *
 *   prerouting  (nat, dstnat)  packets to one of the host's addresses → the `ports` chain (DNAT to containers)
 *   output      (nat, -100)    the same for the host's own connections (127.0.0.1:PORT and the host's addresses)
 *   ports                      one rule per published port: [ip daddr HOSTIP] PROTO dport HOSTPORT dnat to IP:PORT
 *   postrouting (nat, srcnat)  egress masquerade per non-internal subnet; loopback clients of a published port
 *                              masqueraded onto the bridge (route_localnet is set on tsdock's bridges only)
 *   forward     (filter)       internal networks reach nothing else; networks do not reach each other
 *   raw         (filter, raw)  anything arriving on a bridge for 127.0.0.0/8 is dropped (route_localnet's hole)
 *
 * `ip6 tsdock` has the same prerouting/output/ports/postrouting/forward chains for IPv6 networks; its ports are
 * the IPv6 host addresses' (no loopback case: [::1] is not forwarded, as IPv6 has no route_localnet).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { BridgeRecord } from './leases.js';
import type { NetworkLease } from './types.js';

export const NFT_TABLE = 'tsdock';
const T = { family: 'ip', table: NFT_TABLE } as const;
const TABLE = { table: { family: 'ip', name: NFT_TABLE } };
const T6 = { family: 'ip6', table: NFT_TABLE } as const;
const TABLE6 = { table: { family: 'ip6', name: NFT_TABLE } };

type Expr = Record<string, unknown>;
const field = (protocol: string, f: string) => ({ payload: { protocol, field: f } });
const prefix = (cidr: string) => {
  const [addr, len] = cidr.split('/');
  return { prefix: { addr, len: Number(len) } };
};
const match = (left: unknown, right: unknown, op = '=='): Expr => ({ match: { op, left, right } });
const rule = (chain: string, expr: Expr[], comment?: string, t: typeof T | typeof T6 = T) => ({ add: { rule: { ...t, chain, expr, ...(comment ? { comment } : {}) } } });
const chain = (name: string, base?: { type: string; hook: string; prio: number }, t: typeof T | typeof T6 = T) => ({ add: { chain: { ...t, name, ...(base ? { ...base, policy: 'accept' } : {}) } } });

const IIF = { meta: { key: 'iifname' } };
const OIF = { meta: { key: 'oifname' } };

/**
 * One network's rules in a family's table: internal ones reach nothing off their bridge; the others masquerade
 * their subnet's egress and do not reach the other bridges (`names`).
 */
function networkRules(b: BridgeRecord, names: string[], family: 'ip' | 'ip6'): unknown[] {
  const t = family === 'ip' ? T : T6;
  if (b.internal) {
    return [
      rule('forward', [match(IIF, b.bridge), match(OIF, b.bridge, '!='), { drop: null }], `${b.network}: internal`, t),
      rule('forward', [match(OIF, b.bridge), match(IIF, b.bridge, '!='), { drop: null }], `${b.network}: internal`, t),
    ];
  }
  const subnet = family === 'ip' ? b.subnet : b.subnet6!;
  const out = [rule('postrouting', [match(field(family, 'saddr'), prefix(subnet)), match(field(family, 'daddr'), prefix(subnet), '!='), { masquerade: null }], `${b.network}: egress`, t)];
  const others = names.filter((n) => n !== b.bridge);
  if (others.length) out.push(rule('forward', [match(IIF, b.bridge), match(OIF, { set: others }), { drop: null }], `${b.network}: isolated from other networks`, t));
  return out;
}

/**
 * The `ip6 tsdock` table, in the same transaction: for IPv6 networks, egress masquerade of their subnets and the
 * same isolation as IPv4 (internal networks reach nothing else, networks do not reach each other), and the
 * published ports whose host address is IPv6 (`::`, the twin of a default `0.0.0.0` one, or `[addr]:`), DNATed
 * to the container's IPv6 address. Without an IPv6 network the table is removed (add + delete).
 */
function render6(bridges: BridgeRecord[], leases: NetworkLease[]): unknown[] {
  const v6 = [...bridges].filter((b) => b.subnet6).sort((x, y) => x.bridge.localeCompare(y.bridge));
  const out: unknown[] = [{ add: TABLE6 }, { delete: TABLE6 }];
  if (!v6.length) return out;
  out.push(
    { add: TABLE6 },
    chain('prerouting', { type: 'nat', hook: 'prerouting', prio: -100 }, T6),
    chain('output', { type: 'nat', hook: 'output', prio: -100 }, T6),
    chain('postrouting', { type: 'nat', hook: 'postrouting', prio: 100 }, T6),
    chain('forward', { type: 'filter', hook: 'forward', prio: 0 }, T6),
    chain('ports', undefined, T6),
  );
  const local = match({ fib: { result: 'type', flags: ['daddr'] } }, 'local');
  out.push(rule('prerouting', [local, { jump: { target: 'ports' } }], undefined, T6), rule('output', [local, { jump: { target: 'ports' } }], undefined, T6));
  const names = v6.map((b) => b.bridge);
  for (const b of v6) out.push(...networkRules(b, names, 'ip6'));
  const internal = new Set(bridges.filter((b) => b.internal).map((b) => b.bridge));
  for (const l of [...leases].sort((a, b) => a.containerId.localeCompare(b.containerId))) {
    const ep = l.endpoints.find((e) => e.ip6 && !internal.has(e.bridge));
    if (!ep) continue;
    for (const p of l.ports.filter((x) => isV6(x.hostIp))) {
      const expr: Expr[] = [];
      if (p.hostIp !== '::') expr.push(match(field('ip6', 'daddr'), p.hostIp));
      expr.push(match(field(p.protocol, 'dport'), p.hostPort));
      expr.push({ dnat: { addr: ep.ip6, port: p.containerPort } });
      out.push(rule('ports', expr, l.containerId.slice(0, 12), T6));
    }
  }
  return out;
}

const isV6 = (ip: string) => ip.includes(':');

export function renderRuleset(bridges: BridgeRecord[], leases: NetworkLease[]): { nftables: unknown[] } {
  const out: unknown[] = [
    { add: TABLE },
    { delete: TABLE },
    { add: TABLE },
    chain('raw', { type: 'filter', hook: 'prerouting', prio: -300 }),
    chain('prerouting', { type: 'nat', hook: 'prerouting', prio: -100 }),
    chain('output', { type: 'nat', hook: 'output', prio: -100 }),
    chain('postrouting', { type: 'nat', hook: 'postrouting', prio: 100 }),
    chain('forward', { type: 'filter', hook: 'forward', prio: 0 }),
    chain('ports'),
  ];
  const local = match({ fib: { result: 'type', flags: ['daddr'] } }, 'local');
  out.push(rule('prerouting', [local, { jump: { target: 'ports' } }]));
  out.push(rule('output', [local, { jump: { target: 'ports' } }]));
  const names = bridges.map((b) => b.bridge).sort();
  for (const b of [...bridges].sort((x, y) => x.bridge.localeCompare(y.bridge))) {
    out.push(rule('raw', [match(IIF, b.bridge), match(field('ip', 'daddr'), prefix('127.0.0.0/8')), { drop: null }]));
    out.push(rule('postrouting', [match(OIF, b.bridge), match(field('ip', 'saddr'), prefix('127.0.0.0/8')), { masquerade: null }], `${b.network}: loopback clients`));
    out.push(...networkRules(b, names, 'ip'));
  }
  const internal = new Set(bridges.filter((b) => b.internal).map((b) => b.bridge));
  for (const l of [...leases].sort((a, b) => a.containerId.localeCompare(b.containerId))) {
    const ep = l.endpoints.find((e) => !internal.has(e.bridge));
    if (!ep) continue;
    for (const p of l.ports.filter((x) => !isV6(x.hostIp))) {
      const expr: Expr[] = [];
      if (p.hostIp !== '0.0.0.0' && p.hostIp !== '') expr.push(match(field('ip', 'daddr'), p.hostIp));
      expr.push(match(field(p.protocol, 'dport'), p.hostPort));
      expr.push({ dnat: { addr: ep.ip, port: p.containerPort } });
      out.push(rule('ports', expr, l.containerId.slice(0, 12)));
    }
  }
  return { nftables: [...out, ...render6(bridges, leases)] };
}

/**
 * Apply a ruleset with `nft -j -f FILE` (one atomic transaction). A file, not `-f -`: nft opens /dev/stdin,
 * which fails (ENXIO) on the socket pair a spawned child's stdin is.
 */
export async function applyRuleset(ruleset: { nftables: unknown[] }, dir: string): Promise<void> {
  const { runHelper } = await import('./helpers.js');
  const file = path.join(dir, `nft-${process.pid}.json`);
  fs.writeFileSync(file, JSON.stringify(ruleset), { mode: 0o600 });
  try {
    await runHelper('nft', ['-j', '-f', file], undefined, 'apply the tsdock nftables table (Debian: apt-get install nftables)');
  } finally {
    fs.rmSync(file, { force: true });
  }
}

/** Remove tsdock's table (no bridges left); a missing table is fine. */
export async function deleteRuleset(dir: string): Promise<void> {
  await applyRuleset({ nftables: [{ add: TABLE }, { delete: TABLE }, { add: TABLE6 }, { delete: TABLE6 }] }, dir);
}
