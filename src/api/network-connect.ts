import type { Context } from '../context.js';
import { TsdockError } from '../errors.js';
import { resolveContainer } from '../container/lookup.js';
import { withNetwork, withoutNetwork } from '../container/network-config.js';
import { runningPid } from '../container/running.js';
import { loadRecord, saveRecord, withContainerLock } from '../container/state.js';
import { connectRunning, disconnectRunning, type RunningContainer } from '../network/hotplug.js';
import { findNetwork } from '../network/store.js';
import type { ContainerRecord } from '../container/record.js';
import { networkEvent } from '../network/events.js';

/** `network connect`'s endpoint settings (docker's --ip, --alias; podman's --mac-address) */
export interface NetworkConnectOptions {
  ip?: string;
  ip6?: string;
  aliases?: string[];
  macAddress?: string;
}

function running(id: string, record: ContainerRecord, ctx: Context): RunningContainer | undefined {
  const pid = runningPid(ctx.root, id);
  return pid === undefined ? undefined : { id, name: record.Name.replace(/^\//, ''), hostname: record.Config.Hostname, root: ctx.root, pid, rootless: !ctx.rootful };
}

async function locked(containerRef: string, ctx: Context, fn: (id: string, record: ContainerRecord) => Promise<void>): Promise<void> {
  const id = resolveContainer(ctx.root, containerRef);
  await withContainerLock(ctx.root, id, async () => {
    const record = loadRecord(ctx.root, id);
    if (!record) throw new TsdockError(`container ${containerRef} has no container.json (a half-created container: remove it)`, { exitCode: 1 });
    await fn(id, record);
  });
}

/**
 * `network connect NETWORK CONTAINER`: the network joins the container's stored request (every later start joins
 * it) and, while it runs, the container gets the interface now.
 */
export async function connectNetwork(networkRef: string, containerRef: string, o: NetworkConnectOptions, ctx: Context): Promise<void> {
  const n = await findNetwork(ctx.root, networkRef, ctx.env);
  await locked(containerRef, ctx, async (id, record) => {
    const ipam = { ...(o.ip ? { IPv4Address: o.ip } : {}), ...(o.ip6 ? { IPv6Address: o.ip6 } : {}) };
    const settings = { ...(Object.keys(ipam).length ? { IPAMConfig: ipam } : {}), ...(o.aliases?.length ? { Aliases: o.aliases } : {}), ...(o.macAddress ? { MacAddress: o.macAddress } : {}) };
    const next = withNetwork(record, n, settings);
    const live = running(id, record, ctx);
    if (live) await connectRunning(live, n, settings, ctx.env);
    await saveRecord(ctx.root, next);
    networkEvent(ctx.root, 'connect', n, { container: id });
  });
}

/** `network disconnect NETWORK CONTAINER`: out of the stored request, and the running container's interface goes. */
export async function disconnectNetwork(networkRef: string, containerRef: string, ctx: Context): Promise<void> {
  const n = await findNetwork(ctx.root, networkRef, ctx.env);
  await locked(containerRef, ctx, async (id, record) => {
    const next = withoutNetwork(record, n);
    const live = running(id, record, ctx);
    if (live) await disconnectRunning(live, n, ctx.env);
    await saveRecord(ctx.root, next);
    networkEvent(ctx.root, 'disconnect', n, { container: id });
  });
}
