/**
 * Rootless networking through pasta (Debian's `passt`), as podman does: the container gets its own network
 * namespace whose `eth0` carries the host's address and routes (pasta --config-net), egress goes through pasta's
 * sockets as the user, and published ports are pasta's listening sockets on the host (`-t`/`-u`), so a
 * connection keeps its client's address. Connections to the gateway reach the host's loopback (pasta's map-gw):
 * host.containers.internal is the gateway.
 *
 * The executor starts pasta after the clone with the child's pid and waits for its `--pid` file (a FIFO) before
 * it releases the child, so the network is up before the command runs; pasta dies with the executor
 * (native/helper.c). The published ports are recorded as a lease in the user's own net run dir, the same shape
 * rootful containers use, so `port`, `ps` and `inspect` read them alike.
 */
import fs from 'node:fs';
import path from 'node:path';
import { TsdockError } from '../errors.js';
import { formatIPv4 } from './cidr.js';
import { resolvePorts } from './attach.js';
import { readRoutes } from './store.js';
import { dropCollected, dropLease, liveLeases, netRunDir, selfOwner, withNetLock, writeLease } from './leases.js';
import type { NetworkLease, PortMapping } from './types.js';

/** what a rootless start asks of pasta */
export interface PastaRequest {
  id: string;
  root: string;
  portBindings: Record<string, Array<{ HostIp: string; HostPort: string }>>;
  publishAll: boolean;
  exposed: string[];
  /** no usable nameserver in the host's resolv.conf (only loopback ones): pasta forwards the gateway's port 53 */
  forwardDns: boolean;
}

export interface PastaStart {
  lease: NetworkLease;
  argv: string[];
  /** the host's default gateway, as the container sees it (pasta copies the routes): the host's loopback */
  gateway: string | undefined;
}

function onPath(file: string, env: NodeJS.ProcessEnv): boolean {
  for (const dir of (env.PATH ?? '/usr/bin:/bin').split(':')) {
    try {
      fs.accessSync(path.join(dir || '.', file), fs.constants.X_OK);
      return true;
    } catch {
      // next
    }
  }
  return false;
}

/** Why rootless networking cannot work here (what to install or change), or undefined when it can. */
export function pastaProblem(env: NodeJS.ProcessEnv): string | undefined {
  if (!onPath('pasta', env)) return 'rootless networking needs pasta: install it (apt-get install passt)';
  try {
    fs.closeSync(fs.openSync('/dev/net/tun', 'r+'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return `rootless networking (pasta) needs /dev/net/tun (${code}): ${code === 'ENOENT' ? 'load the tun module (modprobe tun)' : 'make it mode 0666, the distributions\' default (chmod 0666 /dev/net/tun)'}`;
  }
  return undefined;
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
export function pastaArgv(ports: PortMapping[], ready: string, o: { forwardDns?: string } = {}): string[] {
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
    // the container's namespace as a descriptor the executor opened: pasta, without capabilities, may not open
    // /proc/<pid>/ns of a process that still has them; joining only the netns (pasta is in its owner, the user's
    // namespace); pasta ends with the executor, not by watching the namespace
    '--netns',
    '{netns}',
    '--no-netns-quit',
  ];
}

/** A rootless start: its published ports chosen and recorded (under the user's net lock), pasta's command line. */
export async function connectPasta(r: PastaRequest, ready: string, env: NodeJS.ProcessEnv): Promise<PastaStart> {
  const problem = pastaProblem(env);
  if (problem) throw new TsdockError(problem, { exitCode: 125 });
  const dir = netRunDir(env);
  const gateway = defaultGateway(readRoutes());
  return withNetLock(dir, async () => {
    const { live, collected } = liveLeases(dir);
    dropCollected(dir, collected); // no firewall rules here: pasta's sockets died with their executor
    const held = new Set(live.filter((l) => l.containerId !== r.id).flatMap((l) => l.ports.map((p) => `${p.protocol}/${p.hostPort}`)));
    const ports = await resolvePorts({ portBindings: r.portBindings, publishAll: r.publishAll, exposed: r.exposed }, held);
    const lease: NetworkLease = { containerId: r.id, root: r.root, owner: selfOwner(), endpoints: [], ports };
    await writeLease(dir, lease);
    return { lease, gateway, argv: pastaArgv(ports, ready, { ...(r.forwardDns && gateway ? { forwardDns: gateway } : {}) }) };
  });
}

/** A rootless container's ports released (stop, rm, a failed start): pasta itself died with the executor. */
export async function releasePasta(id: string, env: NodeJS.ProcessEnv): Promise<void> {
  const dir = netRunDir(env);
  if (!fs.existsSync(path.join(dir, 'leases', `${id}.json`))) return;
  await withNetLock(dir, async () => {
    dropLease(dir, id);
  });
}
