/**
 * A container's network through its life, between the record and the network module: checked at create, set up
 * at each start (the executor plan's veths, ports and steps; this run's /etc/hosts and /etc/resolv.conf), and
 * released when it stops or is removed (hooks), or collected when a crash skipped that (the next allocation).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Context } from '../context.js';
import { TsdockError } from '../errors.js';
import { connectForStart, claimLease, disconnect } from '../network/attach.js';
import { connectPasta, pastaProblem, releasePasta } from '../network/pasta.js';
import { findNetwork } from '../network/store.js';
import { hostsFile, resolvConfFile } from '../ocispec/etc-files.js';
import type { ExecPlan } from '../runtime/plan-types.js';
import { registerHooks } from './hooks.js';
import { resolveContainer } from './lookup.js';
import { requestOf, type ContainerRecord } from './record.js';
import { networkMode, requestedNetworks, withDefaultNetwork, type CreateRequest } from './request.js';
import { runningPid } from './running.js';
import type { ContainerPaths } from './store.js';

/** create: the networks named must exist (docker: "network x not found"), a container: target too */
export async function checkNetworks(r: CreateRequest, ctx: Context): Promise<void> {
  const mode = networkMode(r);
  if (mode === 'container') resolveContainer(ctx.root, r.HostConfig.NetworkMode!.slice('container:'.length));
  if (mode === 'pasta') {
    if (ctx.rootful) throw new TsdockError('--network pasta is rootless networking: rootful containers use bridge networks', { exitCode: 125 });
    const problem = pastaProblem(ctx.env);
    if (problem) throw new TsdockError(problem, { exitCode: 125 });
  }
  if (mode !== 'bridge') return;
  if (!ctx.rootful) throw new TsdockError('bridge networks need root: rootless containers have pasta (the default), none or host', { exitCode: 125 });
  for (const n of requestedNetworks(r)) await findNetwork(ctx.root, n, ctx.env);
}

/** create: docker's `default` network for this user (rootless: pasta, or none with a warning saying why). */
export function defaultNetwork(r: CreateRequest, ctx: Context): CreateRequest {
  const mode = r.HostConfig.NetworkMode;
  if (ctx.rootful || (mode && mode !== 'default')) return withDefaultNetwork(r, ctx.rootful);
  const problem = pastaProblem(ctx.env);
  if (problem) ctx.warn?.(`${problem}; the container has --network none`);
  return withDefaultNetwork(r, false, !problem);
}

/** docker's embedded resolver address, inside the container */
const EMBEDDED_DNS = '127.0.0.11';

function nameservers(resolvConf: string | undefined): string[] {
  return (resolvConf ?? '').split('\n').flatMap((l) => {
    const f = l.trim().split(/\s+/);
    return f[0] === 'nameserver' && f[1] ? [f[1]] : [];
  });
}

function readText(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

/** rewrite a bind-mounted file in place (a rename would leave the container's bind on the old inode) */
function rewrite(file: string, content: string): void {
  fs.writeFileSync(file, content);
}

function extraHosts(list: string[] | undefined, gateway: string | undefined): Array<{ host: string; ip: string }> {
  return (list ?? []).map((e) => {
    const i = e.indexOf(':');
    const ip = e.slice(i + 1);
    return { host: e.slice(0, i), ip: ip === 'host-gateway' ? (gateway ?? '127.0.0.1') : ip };
  });
}

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
  if (mode === 'pasta') {
    await pastaForStart(id, record, paths, plan, hostResolv, ctx);
    return;
  }
  const start = await connectForStart(
    {
      id,
      name: record.Name,
      hostname: record.Config.Hostname,
      root: ctx.root,
      networks: requestedNetworks(r),
      endpoints: r.NetworkingConfig?.EndpointsConfig ?? {},
      portBindings: h.PortBindings ?? {},
      publishAll: Boolean(h.PublishAllPorts),
      exposed: Object.keys(record.Config.ExposedPorts ?? {}),
    },
    ctx.env,
  );
  plan.steps.unshift(...start.steps);
  plan.veths = start.veths;
  if (start.ports.length) plan.ports = start.ports;
  const first = start.lease.endpoints[0];
  rewrite(
    paths.hosts,
    hostsFile({
      hostname: record.Config.Hostname,
      name: record.Name,
      network: 'bridge',
      containerIp: first?.ip,
      extraHosts: [...extraHosts(h.ExtraHosts, first?.gateway), ...(first ? [{ host: 'host.docker.internal', ip: first.gateway }, { host: 'host.containers.internal', ip: first.gateway }] : [])],
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
  const dns = servers?.length || h.DnsSearch?.length || h.DnsOptions?.length ? { ...(servers?.length ? { servers } : {}), ...(h.DnsSearch?.length ? { search: h.DnsSearch } : {}), ...(h.DnsOptions?.length ? { options: h.DnsOptions } : {}) } : undefined;
  rewrite(paths.resolvConf, resolvConfFile({ network: 'bridge', hostResolvConf: hostResolv, dns }));
}

/**
 * Rootless: pasta (started by the executor, plan.helper) gives the container the host's addresses and forwards
 * the published ports; /etc/resolv.conf has the host's nameservers, or the gateway forwarded by pasta when the
 * host has only loopback ones; host.containers.internal is the gateway (pasta maps it to the host's loopback).
 */
async function pastaForStart(id: string, record: ContainerRecord, paths: ContainerPaths, plan: ExecPlan, hostResolv: string | undefined, ctx: Context): Promise<void> {
  const h = requestOf(record).HostConfig;
  const usable = nameservers(hostResolv).filter((a) => !/^127\./.test(a) && a !== '::1');
  const ready = path.join(paths.dir, 'pasta.ready');
  const start = await connectPasta(
    { id, root: ctx.root, portBindings: h.PortBindings ?? {}, publishAll: Boolean(h.PublishAllPorts), exposed: Object.keys(record.Config.ExposedPorts ?? {}), forwardDns: !h.Dns?.length && usable.length === 0 },
    ready,
    ctx.env,
  );
  plan.steps.unshift({ op: 'netup', name: 'lo' });
  plan.helper = { argv: start.argv, ready, log: path.join(paths.dir, 'pasta.log'), timeoutMs: PASTA_TIMEOUT_MS };
  const gw = start.gateway;
  rewrite(
    paths.hosts,
    hostsFile({
      hostname: record.Config.Hostname,
      name: record.Name,
      network: 'pasta',
      extraHosts: [...extraHosts(h.ExtraHosts, gw), ...(gw ? [{ host: 'host.docker.internal', ip: gw }, { host: 'host.containers.internal', ip: gw }] : [])],
    }),
  );
  const servers = h.Dns?.length ? h.Dns : usable.length === 0 && gw ? [gw] : undefined;
  const dns = servers || h.DnsSearch?.length || h.DnsOptions?.length ? { ...(servers ? { servers } : {}), ...(h.DnsSearch?.length ? { search: h.DnsSearch } : {}), ...(h.DnsOptions?.length ? { options: h.DnsOptions } : {}) } : undefined;
  rewrite(paths.resolvConf, resolvConfFile({ network: 'pasta', hostResolvConf: hostResolv, dns }));
}

/** how long pasta may take to set the namespace up (it takes ~0.1 s) */
const PASTA_TIMEOUT_MS = 10_000;

/** After the init runs: it holds the lease from now on. */
export async function networkStarted(id: string, record: ContainerRecord, pid: number, ctx: Context): Promise<void> {
  const mode = networkMode(requestOf(record));
  if (mode === 'bridge' || mode === 'pasta') await claimLease(id, pid, ctx.env);
}

export async function releaseNetwork(id: string, record: ContainerRecord | undefined, ctx: Context): Promise<void> {
  const mode = record ? networkMode(requestOf(record)) : undefined;
  if (mode && mode !== 'bridge' && mode !== 'pasta') return;
  try {
    if (mode === 'pasta' || (!mode && !ctx.rootful)) await releasePasta(id, ctx.env);
    else await disconnect(id, ctx.env);
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
