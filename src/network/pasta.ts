/**
 * Rootless networking through pasta (Debian's `passt`), as podman does: the container gets its own network
 * namespace whose `eth0` carries the host's address and routes (pasta --config-net), egress goes through pasta's
 * sockets as the user, and published ports are pasta's listening sockets on the host (`-t`/`-u`), so a
 * connection keeps its client's address. Connections to the gateway reach the host's loopback (pasta's map-gw):
 * host.containers.internal is the gateway.
 *
 * The executor starts pasta after the clone with the child's pid and waits for its `--pid` file (a FIFO) before
 * it releases the child, so the network is up before the command runs; pasta dies with the executor
 * (native/helper.c). The published ports are a lease in the user's own net run dir (rootless-net.ts).
 */
import { TsdockError } from '../errors.js';
import { formatIPv4 } from './cidr.js';
import { helperProblem, reserveRootlessPorts, type RootlessRequest } from './rootless-net.js';
import { readRoutes } from './store.js';
import type { NetworkLease, PortMapping } from './types.js';

/** what a rootless start asks of pasta */
export interface PastaRequest extends RootlessRequest {
  /** `--network pasta:<options>`: pasta's own options, after tsdock's (podman's) */
  options: string[];
  /** no usable nameserver in the host's resolv.conf (only loopback ones): pasta forwards the gateway's port 53 */
  forwardDns: boolean;
}

export interface PastaStart {
  lease: NetworkLease;
  argv: string[];
  /** the host's default gateway, as the container sees it (pasta copies the routes): the host's loopback */
  gateway: string | undefined;
}

/** The host's IPv4 default gateway from /proc/net/route text (pure). */
export function defaultGateway(routes: string): string | undefined {
  for (const line of routes.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8 || f[1] !== '00000000' || f[7] !== '00000000') continue;
    const gw = Buffer.from(f[2]!, 'hex').readUInt32LE(0);
    if (gw) return formatIPv4(gw);
  }
  return undefined;
}

/** pasta's command line for these published ports (pure); `{netns}` is the container's network namespace, `ready` pasta's pid file (a FIFO the executor reads). */
export function pastaArgv(ports: PortMapping[], ready: string, o: { forwardDns?: string; extra?: string[] } = {}): string[] {
  const specs = (proto: string) =>
    ports.filter((p) => p.protocol === proto).map((p) => `${p.hostIp && p.hostIp !== '0.0.0.0' ? `${p.hostIp}/` : ''}${p.hostPort}:${p.containerPort}`);
  const sctp = ports.find((p) => p.protocol === 'sctp');
  if (sctp) throw new TsdockError(`publishing ${sctp.containerPort}/sctp: rootless networking (pasta) forwards tcp and udp only`, { exitCode: 125 });
  const tcp = specs('tcp');
  const udp = specs('udp');
  return [
    'pasta',
    '--config-net',
    '--foreground',
    '--quiet',
    // the executor is root only inside the user's own user namespace: stay that user (pasta's default, nobody,
    // could not open the container's namespaces)
    '--runas',
    '0:0',
    '--pid',
    ready,
    '--ns-ifname',
    'eth0',
    ...(tcp.length ? tcp.flatMap((s) => ['--tcp-ports', s]) : ['--tcp-ports', 'none']),
    ...(udp.length ? udp.flatMap((s) => ['--udp-ports', s]) : ['--udp-ports', 'none']),
    '--tcp-ns',
    'none',
    '--udp-ns',
    'none',
    ...(o.forwardDns ? ['--dns-forward', o.forwardDns] : []),
    ...(o.extra ?? []),
    // the container's namespace as a descriptor the executor opened: pasta, without capabilities, may not open
    // /proc/<pid>/ns of a process that still has them; joining only the netns (pasta is in its owner, the user's
    // namespace); pasta ends with the executor, not by watching the namespace
    '--netns',
    '{netns}',
    '--no-netns-quit',
  ];
}

/** A rootless start with pasta: its published ports recorded, pasta's command line (with `pasta:<options>` last). */
export async function connectPasta(r: PastaRequest, ready: string, env: NodeJS.ProcessEnv): Promise<PastaStart> {
  const problem = helperProblem('pasta', env);
  if (problem) throw new TsdockError(problem, { exitCode: 125 });
  const gateway = defaultGateway(readRoutes());
  const lease = await reserveRootlessPorts(r, env);
  return { lease, gateway, argv: pastaArgv(lease.ports, ready, { ...(r.forwardDns && gateway ? { forwardDns: gateway } : {}), extra: r.options }) };
}
