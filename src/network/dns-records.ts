/**
 * The names each container's resolver answers (docker's 127.0.0.11): `<netrun>/dns/<container id>.hosts`, the
 * endpoints of every live container on the user networks this one is on, rewritten under the net lock whenever
 * a lease changes (start, stop, connect, disconnect) and replaced whole (rename), so a resolver never reads half
 * a file and sees a network joined while it runs. A missing file answers nothing.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { NetworkLease } from './types.js';
import { writeFileAtomicSync } from '../state/atomic.js';

export function dnsRecordsFile(dir: string, containerId: string): string {
  return path.join(dir, 'dns', `${containerId}.hosts`);
}

/** hosts-file text per container with a named (user-network) endpoint: pure, for the writer and tests */
export function dnsViews(leases: NetworkLease[]): Map<string, string> {
  const byNet = new Map<string, string[]>();
  for (const l of leases) {
    for (const e of l.endpoints) {
      if (!e.names.length) continue;
      const lines = [`${e.ip} ${e.names.join(' ')}`, ...(e.ip6 ? [`${e.ip6} ${e.names.join(' ')}`] : [])];
      byNet.set(e.networkId, [...(byNet.get(e.networkId) ?? []), ...lines]);
    }
  }
  const out = new Map<string, string>();
  for (const l of leases) {
    const nets = [...new Set(l.endpoints.filter((e) => e.names.length).map((e) => e.networkId))];
    if (!nets.length) continue;
    const lines = [...new Set(nets.flatMap((n) => byNet.get(n) ?? []))].sort();
    out.set(l.containerId, `${lines.join('\n')}\n`);
  }
  return out;
}

/** Rewrite every view from the live leases; views of containers no longer there go. Call under the net lock. */
export function writeDnsRecords(dir: string, leases: NetworkLease[]): void {
  const views = dnsViews(leases);
  const dnsDir = path.join(dir, 'dns');
  fs.mkdirSync(dnsDir, { recursive: true, mode: 0o700 });
  for (const f of fs.readdirSync(dnsDir)) {
    if (f.endsWith('.hosts') && !views.has(f.slice(0, -'.hosts'.length))) fs.rmSync(path.join(dnsDir, f), { force: true });
  }
  for (const [id, text] of views) {
    const file = dnsRecordsFile(dir, id);
    try {
      if (fs.readFileSync(file, 'utf8') === text) continue;
    } catch {
      // written below
    }
    writeFileAtomicSync(file, text, { mode: 0o644 });
  }
}
