/**
 * A rootless container's network at each start: pasta or slirp4netns (started by the executor, plan.helper) and
 * this run's /etc/hosts and /etc/resolv.conf. host.containers.internal/host.docker.internal name the gateway,
 * which both helpers map to the host's loopback.
 * - pasta gives the container the host's addresses and forwards the published ports itself; /etc/resolv.conf has
 *   the host's nameservers, or the gateway forwarded by pasta when the host has only loopback ones.
 * - slirp4netns gives it slirp's addresses (tap0) and DNS forwarder; its published ports are added through its API
 *   once it runs (rootlessStarted).
 * - on bridge networks (rootlessBridgeForStart), pasta is eth0 and each network a veth into a bridge in the user's
 *   network namespace (network/rootless-netns.ts).
 */
import path from 'node:path';
import type { Context } from '../context.js';
import { connectPasta } from '../network/pasta.js';
import { addHostForwards, connectSlirp, parseSlirpOptions, slirpAddresses, slirpApiSocket } from '../network/slirp4netns.js';
import { liveLease } from '../network/leases.js';
import type { NetworkRequest } from '../network/attach.js';
import { connectRootlessBridge, type RootlessBridgeStart } from '../network/rootless-attach.js';
import { hostsFile, resolvConfFile } from '../ocispec/etc-files.js';
import type { ExecPlan } from '../runtime/plan-types.js';
import { dnsSettings, extraHosts, nameservers, rewrite } from './network-files.js';
import { requestOf, type ContainerRecord } from './record.js';
import { networkModeOptions } from './request.js';
import type { ContainerPaths } from './store.js';

/** how long the helper may take to set the namespace up (pasta takes ~0.1 s) */
const HELPER_TIMEOUT_MS = 10_000;

export async function rootlessForStart(mode: 'pasta' | 'slirp4netns', id: string, record: ContainerRecord, paths: ContainerPaths, plan: ExecPlan, hostResolv: string | undefined, ctx: Context): Promise<void> {
  const r = requestOf(record);
  const h = r.HostConfig;
  const base = { id, root: ctx.root, portBindings: h.PortBindings ?? {}, publishAll: Boolean(h.PublishAllPorts), exposed: Object.keys(record.Config.ExposedPorts ?? {}), options: networkModeOptions(r) };
  const ready = path.join(paths.dir, `${mode}.ready`);
  let gw: string | undefined;
  let servers: string[] | undefined;
  if (mode === 'pasta') {
    const usable = nameservers(hostResolv).filter((a) => !/^127\./.test(a) && a !== '::1');
    const start = await connectPasta({ ...base, forwardDns: !h.Dns?.length && usable.length === 0 }, ready, ctx.env);
    plan.helper = { argv: start.argv, ready, log: path.join(paths.dir, 'pasta.log'), timeoutMs: HELPER_TIMEOUT_MS };
    gw = start.gateway;
    servers = h.Dns?.length ? h.Dns : usable.length === 0 && gw ? [gw] : undefined;
  } else {
    const start = await connectSlirp(base, ctx.env);
    plan.helper = { argv: start.argv, ready, log: path.join(paths.dir, 'slirp4netns.log'), timeoutMs: HELPER_TIMEOUT_MS };
    gw = start.addresses.gateway;
    servers = h.Dns?.length ? h.Dns : [start.addresses.dns];
  }
  plan.steps.unshift({ op: 'netup', name: 'lo' });
  rewrite(
    paths.hosts,
    hostsFile({
      hostname: record.Config.Hostname,
      name: record.Name,
      network: mode,
      extraHosts: extraHosts(h.ExtraHosts, gw),
    }),
  );
  rewrite(paths.resolvConf, resolvConfFile({ network: mode, hostResolvConf: hostResolv, dns: dnsSettings(servers, h) }));
}

/** After the start (slirp4netns): its published ports added through the API socket. */
export async function rootlessStarted(id: string, record: ContainerRecord, ctx: Context): Promise<void> {
  const ports = liveLease(ctx.env, id)?.ports ?? [];
  if (!ports.length) return;
  const o = parseSlirpOptions(networkModeOptions(requestOf(record)));
  await addHostForwards(slirpApiSocket(ctx.env, id), ports, slirpAddresses(o.cidr).address);
}

/**
 * Rootless on bridge networks: the network module's allocation (veths into the user's network namespace, no
 * routes) and pasta as eth0; the caller writes /etc/hosts and the resolver as for a rootful start.
 */
export async function rootlessBridgeForStart(r: NetworkRequest, paths: ContainerPaths, plan: ExecPlan, ctx: Context): Promise<RootlessBridgeStart> {
  const ready = path.join(paths.dir, 'pasta.ready');
  const start = await connectRootlessBridge(r, ready, ctx.env);
  plan.vethNetns = start.vethNetns;
  if (start.pasta) plan.helper = { argv: start.pasta, ready, log: path.join(paths.dir, 'pasta.log'), timeoutMs: HELPER_TIMEOUT_MS };
  return start;
}
