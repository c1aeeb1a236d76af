/**
 * Rootless networking through slirp4netns, podman's helper before pasta and tsdock's fallback where pasta is
 * not installed (or the choice of containers.conf's `default_rootless_network_cmd`). The container gets `tap0`
 * with slirp's fixed addresses (10.0.2.100/24, gateway .2, DNS .3, or those of `cidr=`); egress goes through
 * slirp's user-mode TCP/IP stack as the user. The executor starts it like pasta (native/helper.c): the netns as
 * an inherited descriptor (`--netns-type=path {netns}`), ready when it writes to `--ready-fd` (the FIFO as fd 4).
 * Published ports are added through its API socket once it runs (`add_hostfwd`); unlike pasta they do not keep
 * the client's address (the container sees slirp's gateway). Options (`slirp4netns:<k=v,...>`, podman's names):
 * allow_host_loopback (default true here, as pasta's map-gw: the gateway reaches the host's loopback), mtu
 * (65520), cidr, enable_ipv6.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { TsdockError, UsageError } from '../errors.js';
import { formatIPv4, parseSubnet } from './cidr.js';
import { netRunDir } from './leases.js';
import { helperProblem, reserveRootlessPorts, type RootlessRequest } from './rootless-net.js';
import type { NetworkLease, PortMapping } from './types.js';

export interface SlirpOptions {
  allowHostLoopback: boolean;
  mtu: number;
  cidr: string;
  enableIPv6: boolean;
}

/** The addresses slirp gives the container in `cidr` (pure): .100 for it, .2 the gateway (the host), .3 DNS. */
export function slirpAddresses(cidr: string): { address: string; gateway: string; dns: string; prefix: number } {
  const s = parseSubnet(cidr, 'slirp4netns cidr');
  if (s.prefix > 25) throw new UsageError(`slirp4netns cidr ${cidr}: the prefix must be /25 or shorter`);
  return { address: formatIPv4(s.base + 100), gateway: formatIPv4(s.base + 2), dns: formatIPv4(s.base + 3), prefix: s.prefix };
}

/** podman's `slirp4netns:<options>` (pure); an option tsdock does not implement is refused, never dropped. */
export function parseSlirpOptions(list: string[]): SlirpOptions {
  const o: SlirpOptions = { allowHostLoopback: true, mtu: 65520, cidr: '10.0.2.0/24', enableIPv6: false };
  const bool = (k: string, v: string) => {
    if (v !== 'true' && v !== 'false') throw new UsageError(`slirp4netns option ${k}=${v}: true or false expected`);
    return v === 'true';
  };
  for (const kv of list) {
    const i = kv.indexOf('=');
    const [k, v] = i < 0 ? [kv, ''] : [kv.slice(0, i), kv.slice(i + 1)];
    if (k === 'allow_host_loopback') o.allowHostLoopback = bool(k, v);
    else if (k === 'enable_ipv6') o.enableIPv6 = bool(k, v);
    else if (k === 'mtu') {
      o.mtu = Number(v);
      if (!Number.isInteger(o.mtu) || o.mtu < 1280 || o.mtu > 65521) throw new UsageError(`slirp4netns option mtu=${v}: 1280 to 65521 expected`);
    } else if (k === 'cidr') {
      slirpAddresses(v);
      o.cidr = v;
    } else throw new UsageError(`slirp4netns option "${kv}" is not supported (allow_host_loopback, cidr, enable_ipv6, mtu)`);
  }
  return o;
}

/** slirp4netns's command line (pure); `{netns}` and `{readyfd}` are the executor's (native/helper.c). */
export function slirpArgv(o: SlirpOptions, api: string): string[] {
  return [
    'slirp4netns',
    '--configure',
    '--mtu',
    String(o.mtu),
    '--cidr',
    o.cidr,
    ...(o.allowHostLoopback ? [] : ['--disable-host-loopback']),
    ...(o.enableIPv6 ? ['--enable-ipv6'] : []),
    '--ready-fd',
    '{readyfd}',
    '--api-socket',
    api,
    '--netns-type',
    'path',
    '{netns}',
    'tap0',
  ];
}

export interface SlirpStart {
  lease: NetworkLease;
  argv: string[];
  api: string;
  addresses: ReturnType<typeof slirpAddresses>;
}

/** the API socket of a container's slirp4netns: in the user's runtime dir (a unix path stays short) */
export const slirpApiSocket = (env: NodeJS.ProcessEnv, id: string) => path.join(netRunDir(env), 'slirp', `${id.slice(0, 16)}.sock`);

export async function connectSlirp(r: RootlessRequest & { options: string[] }, env: NodeJS.ProcessEnv): Promise<SlirpStart> {
  const problem = helperProblem('slirp4netns', env);
  if (problem) throw new TsdockError(problem, { exitCode: 125 });
  const o = parseSlirpOptions(r.options);
  const lease = await reserveRootlessPorts(r, env);
  const sctp = lease.ports.find((p) => p.protocol === 'sctp');
  if (sctp) throw new TsdockError(`publishing ${sctp.containerPort}/sctp: rootless networking (slirp4netns) forwards tcp and udp only`, { exitCode: 125 });
  const api = slirpApiSocket(env, r.id);
  fs.mkdirSync(path.dirname(api), { recursive: true, mode: 0o700 });
  fs.rmSync(api, { force: true });
  return { lease, argv: slirpArgv(o, api), api, addresses: slirpAddresses(o.cidr) };
}

/** One request on slirp4netns's API socket (one JSON object per connection, answered with `return` or `error`). */
function apiCall(socket: string, request: object): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const c = net.connect(socket);
    let text = '';
    c.setTimeout(5000, () => c.destroy(new Error('no answer in 5 s')));
    c.on('connect', () => c.end(JSON.stringify(request)));
    c.on('data', (d) => (text += d));
    c.on('error', (err) => reject(new TsdockError(`slirp4netns API ${socket}: ${err.message}`)));
    c.on('close', () => {
      try {
        resolve(JSON.parse(text) as Record<string, unknown>);
      } catch {
        reject(new TsdockError(`slirp4netns API ${socket}: unreadable answer ${JSON.stringify(text.slice(0, 200))}`));
      }
    });
  });
}

/** After the start: each published port forwarded by slirp4netns to the container's address. */
export async function addHostForwards(api: string, ports: PortMapping[], guest: string): Promise<void> {
  for (const p of ports) {
    const r = await apiCall(api, { execute: 'add_hostfwd', arguments: { proto: p.protocol, host_addr: p.hostIp || '0.0.0.0', host_port: p.hostPort, guest_addr: guest, guest_port: p.containerPort } });
    if (r.error) throw new TsdockError(`publishing ${p.hostIp || '0.0.0.0'}:${p.hostPort} through slirp4netns: ${JSON.stringify((r.error as { desc?: string }).desc ?? r.error)}`, { exitCode: 125 });
  }
}
