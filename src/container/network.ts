/**
 * A container's network through its life, between the record and the network module: checked at create, set up
 * at each start (the executor plan's veths, ports and steps; this run's /etc/hosts and /etc/resolv.conf), and
 * released when it stops or is removed (hooks), or collected when a crash skipped that (the next allocation).
 */
import type { Context } from '../context.js';
import { TsdockError } from '../errors.js';
import { connectForStart, claimLease, disconnect, type NetworkStart } from '../network/attach.js';
import { helperProblem, releaseRootless, rootlessDefault } from '../network/rootless-net.js';
import { endpointEvents } from '../network/events.js';
import { findNetwork } from '../network/store.js';
import { hostsFile, resolvConfFile } from '../ocispec/etc-files.js';
import type { ExecPlan } from '../runtime/plan-types.js';
import { registerHooks } from './hooks.js';
import { resolveContainer } from './lookup.js';
import { dnsSettings, extraHosts, nameservers, readText, rewrite } from './network-files.js';
import { rootlessBridgeForStart, rootlessForStart, rootlessStarted } from './network-rootless.js';
import { requestOf, type ContainerRecord } from './record.js';
import { networkMode, requestedNetworks, withDefaultNetwork, type CreateRequest } from './request.js';
import { runningPid } from './running.js';
import type { ContainerPaths } from './store.js';

/** create: the networks named must exist (docker: "network x not found"), a container: target too */
export async function checkNetworks(r: CreateRequest, ctx: Context): Promise<void> {
  const mode = networkMode(r);
  if (mode === 'container') resolveContainer(ctx.root, r.HostConfig.NetworkMode!.slice('container:'.length));
  if (mode === 'pasta' || mode === 'slirp4netns') {
    if (ctx.rootful) throw new TsdockError(`--network ${mode} is rootless networking: rootful containers use bridge networks`, { exitCode: 125 });
    const problem = helperProblem(mode, ctx.env);
    if (problem) throw new TsdockError(problem, { exitCode: 125 });
  }
  if (mode !== 'bridge') return;
  for (const n of requestedNetworks(r)) await findNetwork(ctx.root, n, ctx.env);
}

/** create: docker's `default` network for this user (rootless: pasta, slirp4netns, or none with a warning saying why). */
export function defaultNetwork(r: CreateRequest, ctx: Context): CreateRequest {
  const mode = r.HostConfig.NetworkMode;
  if (ctx.rootful || (mode && mode !== 'default')) return withDefaultNetwork(r, ctx.rootful);
  const choice = rootlessDefault(ctx.env);
  if (choice.problem) ctx.warn?.(`${choice.problem}; the container has --network none`);
  return withDefaultNetwork(r, false, choice.helper);
}

/** docker's embedded resolver address, inside the container */
const EMBEDDED_DNS = '127.0.0.11';

/**
 * Before a start: the container's network into the plan (a lease for bridge networks, the joined namespace for
 * container:X, lo for none) and this run's /etc/hosts and /etc/resolv.conf. Returns a release for a failed start.
 */
export async function networkForStart(id: string, record: ContainerRecord, paths: ContainerPaths, plan: ExecPlan, ctx: Context): Promise<void> {
  const r = requestOf(record);
  const mode = networkMode(r);
  const h = r.HostConfig;
  if (mode === 'host') return;
  if (mode === 'container') {
    const ref = h.NetworkMode!.slice('container:'.length);
    const other = resolveContainer(ctx.root, ref);
    const pid = runningPid(ctx.root, other);
    if (pid === undefined) throw new TsdockError(`cannot join the network of container ${ref}: it is not running`, { exitCode: 125 });
    plan.netns = `/proc/${pid}/ns/net`;
    return;
  }
  if (mode === 'none') {
    plan.steps.unshift({ op: 'netup', name: 'lo' });
    return;
  }
  const hostResolv = readText('/etc/resolv.conf');
  if (mode === 'pasta' || mode === 'slirp4netns') {
    await rootlessForStart(mode, id, record, paths, plan, hostResolv, ctx);
    return;
  }
  const request = {
    id,
    name: record.Name,
    hostname: record.Config.Hostname,
    root: ctx.root,
    networks: requestedNetworks(r),
    endpoints: r.NetworkingConfig?.EndpointsConfig ?? {},
    portBindings: h.PortBindings ?? {},
    publishAll: Boolean(h.PublishAllPorts),
    exposed: Object.keys(record.Config.ExposedPorts ?? {}),
  };
  // rootless: the bridges are in the user's network namespace, and pasta is eth0 (network-rootless.ts)
  const start: NetworkStart & { gateway?: string } = ctx.rootful ? await connectForStart(request, ctx.env) : await rootlessBridgeForStart(request, paths, plan, ctx);
  endpointEvents(ctx.root, 'connect', id, start.lease.endpoints);
  plan.steps.unshift(...start.steps);
  plan.veths = start.veths;
  if (start.ports.length) plan.ports = start.ports;
  const first = start.lease.endpoints[0];
  const gateway = ctx.rootful ? first?.gateway : start.gateway;
  rewrite(
    paths.hosts,
    hostsFile({
      hostname: record.Config.Hostname,
      name: record.Name,
      network: 'bridge',
      containerIp: first?.ip,
      extraHosts: extraHosts(h.ExtraHosts, gateway),
      peers: start.peers,
    }),
  );
  // on user networks the container's own resolver (docker's 127.0.0.11) answers the network's names and
  // forwards the rest to --dns or the host's nameservers (from the host's namespace: loopback ones work too)
  // (the executor starts it: plan.dns); /etc/hosts also lists the peers known at start, for programs that
  // never ask DNS
  const embedded = start.dnsHosts.length > 0;
  if (embedded) {
    const upstream = h.Dns?.length ? h.Dns : nameservers(hostResolv);
    plan.dns = { listen: `${EMBEDDED_DNS}:53`, upstream: upstream.slice(0, 8).map((a) => (a.includes(':') ? `[${a}]:53` : `${a}:53`)), hosts: start.dnsHosts };
  }
  const servers = embedded ? [EMBEDDED_DNS] : h.Dns;
  rewrite(paths.resolvConf, resolvConfFile({ network: 'bridge', hostResolvConf: hostResolv, dns: dnsSettings(servers, h) }));
}

/** the network modes that hold a lease while the container runs (addresses, published ports) */
const LEASED = new Set(['bridge', 'pasta', 'slirp4netns']);

/** After the init runs: it holds the lease from now on. */
export async function networkStarted(id: string, record: ContainerRecord, pid: number, ctx: Context): Promise<void> {
  const mode = networkMode(requestOf(record));
  if (LEASED.has(mode)) await claimLease(id, pid, ctx.env);
  if (mode === 'slirp4netns') await rootlessStarted(id, record, ctx);
}

export async function releaseNetwork(id: string, record: ContainerRecord | undefined, ctx: Context): Promise<void> {
  const mode = record ? networkMode(requestOf(record)) : undefined;
  if (mode && !LEASED.has(mode)) return;
  try {
    const endpoints = ctx.rootful ? await disconnect(id, ctx.env) : await releaseRootless(id, ctx.env);
    endpointEvents(ctx.root, 'disconnect', id, endpoints);
  } catch (err) {
    ctx.warn?.(`releasing the network of ${id.slice(0, 12)}: ${(err as Error).message}`);
  }
}

registerHooks({
  name: 'network',
  async afterStop(c, ctx) {
    await releaseNetwork(c.id, c.record, ctx);
  },
  async onRemove(c, ctx) {
    await releaseNetwork(c.id, c.record, ctx);
  },
});
