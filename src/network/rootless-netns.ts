/**
 * The user's network namespace for rootless bridge networks: one per user, held by `unshare --net sleep infinity`
 * started inside the user's namespace on the first start that needs it, and killed when the last container with an
 * endpoint there is released (`<netrun>/netns.json` holds its pid and start time). It holds the networks' bridges
 * and nothing else: no address outside, no forwarding, no firewall. A container on such a network keeps pasta (or
 * slirp4netns) as its eth0 for egress and published ports, and gets one veth per network into a bridge here, so
 * containers reach each other directly on the bridge, and networks are apart because nothing routes between them.
 * Bridges are made with `nsenter --net=… ip -batch -` once per holder (the record says for which).
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { TsdockError } from '../errors.js';
import { readJsonSync, writeJsonAtomic } from '../state/atomic.js';
import { bridgeBatch, bridgeRecordOf } from './bridge.js';
import { runHelper } from './helpers.js';
import { bridgeRecords, dropBridgeRecord, ownerAlive, selfOwner, writeBridgeRecord, type BridgeRecord } from './leases.js';
import { bridgeOf, type NetworkLease, type NetworkRecord } from './types.js';

export type Holder = NetworkLease['owner'];

const holderFile = (dir: string) => path.join(dir, 'netns.json');
export const holderNetns = (h: Holder) => `/proc/${h.pid}/ns/net`;

export function liveNetnsHolder(dir: string): Holder | undefined {
  const h = readJsonSync<Holder>(holderFile(dir));
  return h && ownerAlive(h) ? h : undefined;
}

/** The holder, started when there is none (call under the net lock). */
export async function ensureNetnsHolder(dir: string): Promise<Holder> {
  const have = liveNetnsHolder(dir);
  if (have) return have;
  const child = spawn('unshare', ['--net', '--', 'sleep', 'infinity'], { detached: true, stdio: 'ignore' });
  const failed = new Promise<never>((_, reject) => {
    child.once('error', (err) => reject(new TsdockError(`starting the user's network namespace (unshare --net): ${err.message}`)));
    child.once('exit', (code) => reject(new TsdockError(`starting the user's network namespace: unshare --net exited with ${code}`)));
  });
  failed.catch(() => undefined);
  child.unref();
  const pid = child.pid!;
  const mine = fs.readlinkSync('/proc/self/ns/net');
  const entered = (async () => {
    for (let i = 0; i < 400; i++) {
      try {
        if (fs.readlinkSync(`/proc/${pid}/ns/net`) !== mine) return;
      } catch {
        // not yet readable
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new TsdockError("starting the user's network namespace: unshare --net did not enter one in 2 s");
  })();
  await Promise.race([entered, failed]);
  const h = selfOwner(pid);
  await writeJsonAtomic(holderFile(dir), h, { fsync: false });
  return h;
}

/** Kill the holder (no container needs it any more); its namespace, bridges and veths go with it. */
export function stopNetnsHolder(dir: string): void {
  const h = liveNetnsHolder(dir);
  if (h) {
    try {
      process.kill(h.pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }
  fs.rmSync(holderFile(dir), { force: true });
  for (const b of bridgeRecords(dir)) dropBridgeRecord(dir, b.bridge);
}

/** `ip <args>` inside the holder's namespace */
export const ipInHolder = (h: Holder, args: string[], input: string | undefined, what: string) => runHelper('nsenter', [`--net=${holderNetns(h)}`, 'ip', ...args], input, what);

/** whether the bridge of this record was made in this holder's namespace (a later holder has none of it) */
const madeIn = (rec: BridgeRecord | undefined, h: Holder) => rec?.holder?.pid === h.pid && rec.holder.startTime === h.startTime;

/** The network's bridge in the holder's namespace, made once per holder (call under the net lock). */
export async function ensureRootlessBridge(n: NetworkRecord, dir: string, h: Holder): Promise<void> {
  const b = bridgeRecordOf(n);
  if (madeIn(bridgeRecords(dir).find((x) => x.bridge === b.bridge), h)) return;
  await ipInHolder(h, ['-batch', '-'], bridgeBatch(b), `create the bridge ${b.bridge} of network ${n.Name} in the user's network namespace`);
  await writeBridgeRecord(dir, { ...b, holder: h });
}

/** `network rm`, rootless: the bridge goes from the holder's namespace (if it is there). */
export async function removeRootlessBridge(n: NetworkRecord, dir: string): Promise<void> {
  const h = liveNetnsHolder(dir);
  const name = bridgeOf(n);
  if (h && madeIn(bridgeRecords(dir).find((x) => x.bridge === name), h)) await ipInHolder(h, ['link', 'delete', name], undefined, `remove the bridge ${name}`);
  dropBridgeRecord(dir, name);
}
