import fs from 'node:fs';
import os from 'node:os';
import type { Context } from '../context.js';
import { TsdockError } from '../errors.js';
import { resolveContainer } from '../container/lookup.js';
import { listContainerIds, loadRecord } from '../container/state.js';
import { runningPid } from '../container/running.js';
import { cgroupOf } from '../container/cgroup.js';
import type { CgroupStats } from '../cgroups/index.js';

export interface StatsOptions {
  /** names or ids; none: every running container */
  containers: string[];
  /** with no names: stopped containers too (their numbers are zero) */
  all?: boolean;
  /** time between the two CPU samples, ms (default 500) */
  intervalMs?: number;
}

/** One row of `stats`, raw numbers (the CLI formats docker's columns). */
export interface ContainerStats {
  id: string;
  name: string;
  /** percent of one CPU (200% = two cores busy), over the sampling interval */
  cpuPercent: number;
  memUsage: number;
  /** the cgroup's limit, or the host's memory when unlimited */
  memLimit: number;
  memPercent: number;
  netRx: number;
  netTx: number;
  blockRead: number;
  blockWrite: number;
  pids: number;
}

/** bytes received/sent on the container's interfaces but loopback (/proc/<pid>/net/dev sees its netns) */
export function netIO(pid: number | undefined): { rx: number; tx: number } {
  let rx = 0;
  let tx = 0;
  if (!pid) return { rx, tx };
  let text = '';
  try {
    text = fs.readFileSync(`/proc/${pid}/net/dev`, 'utf8');
  } catch {
    return { rx, tx };
  }
  for (const line of text.split('\n').slice(2)) {
    const [name, rest] = line.split(':');
    if (!rest || name!.trim() === 'lo') continue;
    const f = rest.trim().split(/\s+/).map(Number);
    rx += f[0] ?? 0;
    tx += f[8] ?? 0;
  }
  return { rx, tx };
}

interface Target {
  id: string;
  name: string;
  pid?: number;
  read: () => CgroupStats | undefined;
}

function target(root: string, id: string): Target {
  const record = loadRecord(root, id);
  const pid = runningPid(root, id);
  const cg = pid !== undefined ? cgroupOf(record) : undefined;
  if (pid !== undefined && !cg) {
    throw new TsdockError(`stats of ${record?.Name ?? id}: the container has no cgroup (rootless containers need a delegated cgroup v2 subtree)`, { exitCode: 125 });
  }
  return { id, name: record?.Name ?? id, pid, read: () => (cg?.exists() ? cg.stats() : undefined) };
}

/**
 * docker stats, one snapshot: every container's cgroup is read twice `intervalMs` apart (CPU % is the CPU time
 * used over that wall time); memory, PIDs and block I/O from the second read, network from its netns.
 */
export async function containerStats(opts: StatsOptions, ctx: Context): Promise<ContainerStats[]> {
  const ids = opts.containers.length
    ? opts.containers.map((c) => resolveContainer(ctx.root, c))
    : listContainerIds(ctx.root).filter((id) => opts.all || runningPid(ctx.root, id) !== undefined);
  const targets = ids.map((id) => target(ctx.root, id));
  const first = targets.map((t) => t.read());
  const t0 = process.hrtime.bigint();
  await new Promise((r) => setTimeout(r, opts.intervalMs ?? 500));
  const wall = Number(process.hrtime.bigint() - t0);
  const hostMem = os.totalmem();
  return targets.map((t, i) => {
    const s = t.read();
    const before = first[i];
    const limit = s?.memoryLimit && s.memoryLimit < hostMem ? s.memoryLimit : hostMem;
    const net = netIO(s ? t.pid : undefined);
    return {
      id: t.id,
      name: t.name,
      cpuPercent: s && before ? Math.max(0, ((s.cpuUsageNs - before.cpuUsageNs) / wall) * 100) : 0,
      memUsage: s?.memoryUsage ?? 0,
      memLimit: s ? limit : 0,
      memPercent: s && limit ? (s.memoryUsage / limit) * 100 : 0,
      netRx: net.rx,
      netTx: net.tx,
      blockRead: s?.blkioRead ?? 0,
      blockWrite: s?.blkioWrite ?? 0,
      pids: s?.pids ?? 0,
    };
  });
}
