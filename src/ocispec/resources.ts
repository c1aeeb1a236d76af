/**
 * docker's HostConfig resource fields as a request gives them (bytes, NanoCpus, ...) → the values a container
 * gets (docker's adjustments and defaults) → the OCI spec's `linux.resources`. Pure: host facts (CPU count,
 * online CPUs and memory nodes) come in as arguments. Validation follows moby's daemon
 * (verifyPlatformContainerResources) and its messages; the flags' own parse errors are the CLI's.
 */
import { UsageError } from '../errors.js';
import type { LinuxResources } from './types.js';

/** docker's HostConfig resource fields (inspect shows them; `update` changes them). 0 / "" = not set. */
export interface HostResources {
  Memory: number;
  MemorySwap: number;
  MemoryReservation: number;
  MemorySwappiness: number | null;
  NanoCpus: number;
  CpuShares: number;
  CpuPeriod: number;
  CpuQuota: number;
  CpusetCpus: string;
  CpusetMems: string;
  PidsLimit: number | null;
  BlkioWeight: number;
  OomScoreAdj: number;
}

export interface HostFacts {
  ncpu: number;
  /** /sys/devices/system/cpu/online, e.g. "0-1" */
  cpusOnline: string;
  /** /sys/devices/system/node/online, e.g. "0" */
  memsOnline: string;
}

export const EMPTY_RESOURCES: Readonly<HostResources> = Object.freeze({
  Memory: 0,
  MemorySwap: 0,
  MemoryReservation: 0,
  MemorySwappiness: null,
  NanoCpus: 0,
  CpuShares: 0,
  CpuPeriod: 0,
  CpuQuota: 0,
  CpusetCpus: '',
  CpusetMems: '',
  PidsLimit: null,
  BlkioWeight: 0,
  OomScoreAdj: 0,
});

/** moby's linuxMinMemory */
export const MIN_MEMORY = 6 * 1024 * 1024;

/** A cpuset list ("0-2,4") → the set of numbers, or undefined when malformed. */
export function parseCpuList(list: string): Set<number> | undefined {
  const out = new Set<number>();
  if (list.trim() === '') return out;
  for (const part of list.trim().split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) return undefined;
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a || b - a > 4096) return undefined;
    for (let i = a; i <= b; i++) out.add(i);
  }
  return out;
}

/** The resource fields a request sets (docker's units); undefined and null are "not given". */
export type ResourceRequest = Partial<HostResources>;

function checkCpuset(value: string, online: string, what: 'CPUs' | 'memory nodes', field: string): string {
  const want = parseCpuList(value);
  if (!want) throw new UsageError(`invalid value ${value} for ${field}: use a list such as 0-2,4`);
  const have = parseCpuList(online) ?? new Set<number>();
  const missing = [...want].filter((n) => !have.has(n));
  if (missing.length) throw new UsageError(`requested ${what} are not available - requested ${value}, available: ${online.trim()}`);
  return value.trim();
}

/**
 * Apply a request's resource fields on top of `base` (EMPTY_RESOURCES for create; the container's current values
 * for `update`), validating the combination as dockerd does.
 */
export function resolveResources(req: ResourceRequest, host: HostFacts, base: HostResources = EMPTY_RESOURCES, opts: { update?: boolean } = {}): HostResources {
  const r: HostResources = { ...base };
  if (req.Memory !== undefined) r.Memory = req.Memory;
  if (req.MemoryReservation !== undefined) r.MemoryReservation = req.MemoryReservation;
  if (req.MemorySwap !== undefined) r.MemorySwap = req.MemorySwap;
  if (req.MemorySwappiness !== undefined && req.MemorySwappiness !== null) {
    const s = req.MemorySwappiness;
    if (s < -1 || s > 100) throw new UsageError(`invalid value: ${s}, valid memory swappiness range is 0-100`);
    r.MemorySwappiness = s === -1 ? null : s;
  }
  if (r.Memory < 0) r.Memory = 0;
  if (r.Memory > 0 && r.Memory < MIN_MEMORY) throw new UsageError('minimum memory limit allowed is 6MB');
  if (r.MemoryReservation > 0 && r.MemoryReservation < MIN_MEMORY) throw new UsageError('minimum memory reservation allowed is 6MB');
  if (req.Memory !== undefined && req.MemorySwap === undefined && opts.update && base.MemorySwap > 0 && r.Memory > base.MemorySwap) {
    throw new UsageError('memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time');
  }
  // docker's default: swap as large as the memory limit (memory + swap = 2 × memory)
  if (!opts.update && r.Memory > 0 && r.MemorySwap === 0) r.MemorySwap = r.Memory * 2;
  if (r.MemorySwap > 0 && r.Memory === 0) throw new UsageError('you should always set the memory limit when using memoryswap limit, see usage');
  if (r.MemorySwap > 0 && r.MemorySwap < r.Memory) throw new UsageError('minimum memoryswap limit should be larger than memory limit, see usage');
  if (r.Memory > 0 && r.MemoryReservation > 0 && r.MemoryReservation > r.Memory) {
    throw new UsageError('minimum memory limit can not be less than memory reservation limit, see usage');
  }

  if (req.NanoCpus !== undefined) {
    r.NanoCpus = req.NanoCpus;
    if (r.NanoCpus !== 0 && (r.NanoCpus < 1e7 || r.NanoCpus > host.ncpu * 1e9)) {
      throw new UsageError(`range of CPUs is from 0.01 to ${host.ncpu}.00, as there are only ${host.ncpu} CPUs available`);
    }
  }
  if (req.CpuShares !== undefined) {
    r.CpuShares = req.CpuShares;
    if (r.CpuShares < 0) throw new UsageError(`invalid CPU shares ${r.CpuShares}: must be positive`);
    if (r.CpuShares > 0 && r.CpuShares < 2) r.CpuShares = 2;
    if (r.CpuShares > 262144) r.CpuShares = 262144;
  }
  if (req.CpuPeriod !== undefined) r.CpuPeriod = req.CpuPeriod;
  if (req.CpuQuota !== undefined) r.CpuQuota = req.CpuQuota;
  if (r.NanoCpus > 0 && (req.CpuPeriod !== undefined || req.NanoCpus !== undefined) && r.CpuPeriod > 0) throw new UsageError('conflicting options: Nano CPUs and CPU Period cannot both be set');
  if (r.NanoCpus > 0 && r.CpuQuota > 0) throw new UsageError('conflicting options: Nano CPUs and CPU Quota cannot both be set');
  if (r.CpuPeriod !== 0 && (r.CpuPeriod < 1000 || r.CpuPeriod > 1_000_000)) throw new UsageError('CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)');
  if (r.CpuQuota > 0 && r.CpuQuota < 1000) throw new UsageError('CPU cfs quota can not be less than 1ms (i.e. 1000)');
  if (r.CpuQuota < -1) throw new UsageError(`invalid CPU quota ${r.CpuQuota}`);

  if (req.CpusetCpus) r.CpusetCpus = checkCpuset(req.CpusetCpus, host.cpusOnline, 'CPUs', '--cpuset-cpus');
  if (req.CpusetMems) r.CpusetMems = checkCpuset(req.CpusetMems, host.memsOnline, 'memory nodes', '--cpuset-mems');
  if (req.PidsLimit !== undefined && req.PidsLimit !== null) {
    const n = req.PidsLimit;
    r.PidsLimit = n <= 0 ? (opts.update ? -1 : null) : n;
  }
  if (req.BlkioWeight !== undefined) {
    r.BlkioWeight = req.BlkioWeight;
    if (r.BlkioWeight !== 0 && (r.BlkioWeight < 10 || r.BlkioWeight > 1000)) throw new UsageError('range of blkio weight is from 10 to 1000');
  }
  if (req.OomScoreAdj !== undefined) {
    r.OomScoreAdj = req.OomScoreAdj;
    if (r.OomScoreAdj < -1000 || r.OomScoreAdj > 1000) throw new UsageError(`invalid value ${r.OomScoreAdj}, range for oom score adj is [-1000, 1000]`);
  }
  return r;
}

/**
 * The limits a request sets that need a cgroup controller (all but OomScoreAdj, which is per process), named as
 * users know them (docker's flags) for the messages that refuse them.
 */
export function limitsGiven(req: ResourceRequest, opts: { update?: boolean } = {}): string[] {
  const names: Array<[keyof HostResources, string]> = [
    ['Memory', 'memory'], ['MemorySwap', 'memory-swap'], ['MemoryReservation', 'memory-reservation'], ['MemorySwappiness', 'memory-swappiness'],
    ['NanoCpus', 'cpus'], ['CpuShares', 'cpu-shares'], ['CpuPeriod', 'cpu-period'], ['CpuQuota', 'cpu-quota'],
    ['CpusetCpus', 'cpuset-cpus'], ['CpusetMems', 'cpuset-mems'], ['PidsLimit', 'pids-limit'], ['BlkioWeight', 'blkio-weight'],
  ];
  const set = (k: keyof HostResources): boolean => {
    const v = req[k];
    // an update's zero is a change (back to no limit); a create's is docker's "not set"
    return v !== undefined && v !== null && (opts.update || (v !== '' && (v !== 0 || k === 'PidsLimit')));
  };
  return names.filter(([k]) => set(k)).map(([, n]) => `--${n}`);
}

/** docker's conversion of --cpus to a CFS quota over the default 100 ms period */
const DEFAULT_PERIOD = 100_000;

/** HostConfig resources → the spec's linux.resources (undefined members: leave the cgroup's default). */
export function toLinuxResources(r: HostResources): LinuxResources {
  const out: LinuxResources = {};
  const memory: NonNullable<LinuxResources['memory']> = {};
  if (r.Memory > 0) memory.limit = r.Memory;
  if (r.MemoryReservation > 0) memory.reservation = r.MemoryReservation;
  if (r.MemorySwap !== 0) memory.swap = r.MemorySwap;
  if (r.MemorySwappiness !== null && r.MemorySwappiness >= 0) memory.swappiness = r.MemorySwappiness;
  if (Object.keys(memory).length) out.memory = memory;
  const cpu: NonNullable<LinuxResources['cpu']> = {};
  if (r.CpuShares > 0) cpu.shares = r.CpuShares;
  if (r.NanoCpus > 0) {
    cpu.period = DEFAULT_PERIOD;
    cpu.quota = Math.round((r.NanoCpus * DEFAULT_PERIOD) / 1e9);
  } else {
    if (r.CpuPeriod > 0) cpu.period = r.CpuPeriod;
    if (r.CpuQuota !== 0) cpu.quota = r.CpuQuota;
  }
  if (r.CpusetCpus) cpu.cpus = r.CpusetCpus;
  if (r.CpusetMems) cpu.mems = r.CpusetMems;
  if (Object.keys(cpu).length) out.cpu = cpu;
  if (r.PidsLimit !== null && r.PidsLimit !== 0) out.pids = { limit: r.PidsLimit };
  if (r.BlkioWeight > 0) out.blockIO = { weight: r.BlkioWeight };
  return out;
}
