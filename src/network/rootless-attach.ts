/**
 * A rootless start on bridge networks (rootless-netns.ts): the endpoints' addresses and the published ports as one
 * lease in the user's net run dir (under its lock), each network's bridge in the user's network namespace, the
 * resolvers' name files, and what the plan needs: veths whose host ends the executor makes in that namespace
 * (plan.vethNetns), eth1… addresses without routes, and pasta as eth0 for egress and the ports (none when every
 * network is --internal).
 */
import { TsdockError } from '../errors.js';
import { containerSteps, heldPorts, resolvePorts, startParts, wishFor, type NetworkRequest, type NetworkStart } from './attach.js';
import { writeDnsRecords } from './dns-records.js';
import { allocateEndpoint } from './endpoint.js';
import { dropCollected, liveLeases, netRunDir, selfOwner, withNetLock, writeLease } from './leases.js';
import { defaultGateway, pastaArgv } from './pasta.js';
import { helperProblem } from './rootless-net.js';
import { ensureNetnsHolder, ensureRootlessBridge, holderNetns, stopNetnsHolder, type Holder } from './rootless-netns.js';
import { findNetwork, readRoutes } from './store.js';
import type { Endpoint, NetworkLease, NetworkRecord } from './types.js';

export interface RootlessBridgeStart extends NetworkStart {
  /** the user's network namespace: where the veths' host ends go */
  vethNetns: string;
  /** pasta's argv for eth0 (egress, published ports); undefined: internal networks only */
  pasta?: string[];
  /** the host's default gateway as pasta's eth0 sees it (host.containers.internal) */
  gateway?: string;
}

export async function connectRootlessBridge(r: NetworkRequest, ready: string, env: NodeJS.ProcessEnv): Promise<RootlessBridgeStart> {
  const nets: NetworkRecord[] = [];
  for (const n of r.networks) nets.push(await findNetwork(r.root, n, env));
  const egress = nets.some((n) => !n.Internal);
  if (egress) {
    const problem = helperProblem('pasta', env);
    if (problem) throw new TsdockError(`${problem}: rootless bridge networks reach the outside through pasta`, { exitCode: 125 });
  }
  const dir = netRunDir(env);
  return withNetLock(dir, async () => {
    const holder = await ensureNetnsHolder(dir);
    try {
      return await allocate(holder);
    } catch (err) {
      // a holder no container needs (this start failed before its lease): gone again
      if (!liveLeases(dir).live.some((l) => l.containerId !== r.id && l.endpoints.length)) stopNetnsHolder(dir);
      throw err;
    }
  });

  async function allocate(holder: Holder): Promise<RootlessBridgeStart> {
    const { live, collected } = liveLeases(dir);
    dropCollected(dir, collected);
    const others = live.filter((l) => l.containerId !== r.id);
    const endpoints: Endpoint[] = [];
    for (const [i, n] of nets.entries()) {
      await ensureRootlessBridge(n, dir, holder);
      endpoints.push(allocateEndpoint(n, `eth${i + 1}`, others, wishFor(r, n), r));
    }
    if (!egress && (Object.keys(r.portBindings).length || r.publishAll)) throw new TsdockError('publishing ports needs a network that is not --internal', { exitCode: 125 });
    const ports = await resolvePorts(r, heldPorts(others));
    const lease: NetworkLease = { containerId: r.id, root: r.root, owner: selfOwner(), endpoints, ports };
    await writeLease(dir, lease);
    writeDnsRecords(dir, [...others, lease]);
    return {
      lease,
      ...startParts(dir, r.id, endpoints, others),
      vethNetns: holderNetns(holder),
      ports: [],
      steps: containerSteps(endpoints, false),
      ...(egress ? { pasta: pastaArgv(ports, ready), gateway: defaultGateway(readRoutes()) } : {}),
    };
  }
}
