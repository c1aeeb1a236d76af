/**
 * Resource flags (`--memory`, `--cpus`, `--pids-limit`, ...) → docker's HostConfig resource fields → the OCI
 * spec's `linux.resources`. Pure: host facts (CPU count, online CPUs and memory nodes) come in as arguments.
 * Validation follows moby's daemon (verifyPlatformContainerResources) and its messages.
 */
import { UsageError } from '../errors.js';
import { ramInBytes as parseRamInBytes } from './units.js';
import type { LinuxResources } from './types.js';

/** The raw flag values (commander's names), strings as typed. */
export interface ResourceFlags {
  memory?: string;
  memorySwap?: string;
  memoryReservation?: string;
  memorySwappiness?: string;
  cpus?: string;
  cpuShares?: string;
  cpuPeriod?: string;
  cpuQuota?: string;
  cpusetCpus?: string;
  cpusetMems?: string;
  pidsLimit?: string;
  blkioWeight?: string;
  oomScoreAdj?: string;
}

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

/** docker's units.RAMInBytes ("32m", "1.5g", "64MiB", "100" bytes) with pflag's error for `--<flag>` */
export function ramInBytes(value: string, flag: string): number {
  const n = parseRamInBytes(value);
  if (n === undefined) throw new UsageError(`invalid argument "${value}" for "--${flag}" flag: invalid size: '${value}'`);
  return n;
}

function integer(value: string, flag: string): number {
  if (!/^-?\d+$/.test(value.trim())) throw new UsageError(`invalid argument "${value}" for "--${flag}" flag: strconv.ParseInt: parsing "${value}": invalid syntax`);
  return Number(value.trim());
}

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

function checkCpuset(value: string, online: string, what: 'CPUs' | 'memory nodes', flag: string): string {
  const want = parseCpuList(value);
  if (!want) throw new UsageError(`invalid value ${value} for --${flag}: use a list such as 0-2,4`);
  const have = parseCpuList(online) ?? new Set<number>();
  const missing = [...want].filter((n) => !have.has(n));
  if (missing.length) throw new UsageError(`requested ${what} are not available - requested ${value}, available: ${online.trim()}`);
  return value.trim();
}

/**
 * Apply resource flags on top of `base` (EMPTY_RESOURCES for create; the container's current values for
 * `update`), validating the combination as docker does.
 */
export function resolveResources(flags: ResourceFlags, host: HostFacts, base: HostResources = EMPTY_RESOURCES, opts: { update?: boolean } = {}): HostResources {
  const r: HostResources = { ...base };
  if (flags.memory !== undefined) r.Memory = ramInBytes(flags.memory, 'memory');
  if (flags.memoryReservation !== undefined) r.MemoryReservation = ramInBytes(flags.memoryReservation, 'memory-reservation');
  if (flags.memorySwap !== undefined) r.MemorySwap = flags.memorySwap.trim() === '-1' ? -1 : ramInBytes(flags.memorySwap, 'memory-swap');
  if (flags.memorySwappiness !== undefined) {
    const s = integer(flags.memorySwappiness, 'memory-swappiness');
    if (s < -1 || s > 100) throw new UsageError(`invalid value: ${s}, valid memory swappiness range is 0-100`);
    r.MemorySwappiness = s === -1 ? null : s;
  }
  if (r.Memory < 0) r.Memory = 0;
  if (r.Memory > 0 && r.Memory < MIN_MEMORY) throw new UsageError('minimum memory limit allowed is 6MB');
  if (r.MemoryReservation > 0 && r.MemoryReservation < MIN_MEMORY) throw new UsageError('minimum memory reservation allowed is 6MB');
  if (flags.memory !== undefined && flags.memorySwap === undefined && opts.update && base.MemorySwap > 0 && r.Memory > base.MemorySwap) {
    throw new UsageError('memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time');
  }
  // docker's default: swap as large as the memory limit (memory + swap = 2 × memory)
  if (!opts.update && r.Memory > 0 && r.MemorySwap === 0) r.MemorySwap = r.Memory * 2;
  if (r.MemorySwap > 0 && r.Memory === 0) throw new UsageError('you should always set the memory limit when using memoryswap limit, see usage');
  if (r.MemorySwap > 0 && r.MemorySwap < r.Memory) throw new UsageError('minimum memoryswap limit should be larger than memory limit, see usage');
  if (r.Memory > 0 && r.MemoryReservation > 0 && r.MemoryReservation > r.Memory) {
    throw new UsageError('minimum memory limit can not be less than memory reservation limit, see usage');
  }

  if (flags.cpus !== undefined) {
    const n = Number(flags.cpus.trim());
    if (!/^\d*\.?\d+$/.test(flags.cpus.trim()) || !Number.isFinite(n)) throw new UsageError(`invalid argument "${flags.cpus}" for "--cpus" flag: failed to parse ${flags.cpus} as a rational number`);
    r.NanoCpus = Math.round(n * 1e9);
    if (r.NanoCpus !== 0 && (r.NanoCpus < 1e7 || r.NanoCpus > host.ncpu * 1e9)) {
      throw new UsageError(`range of CPUs is from 0.01 to ${host.ncpu}.00, as there are only ${host.ncpu} CPUs available`);
    }
  }
  if (flags.cpuShares !== undefined) {
    r.CpuShares = integer(flags.cpuShares, 'cpu-shares');
    if (r.CpuShares < 0) throw new UsageError(`invalid CPU shares ${r.CpuShares}: must be positive`);
    if (r.CpuShares > 0 && r.CpuShares < 2) r.CpuShares = 2;
    if (r.CpuShares > 262144) r.CpuShares = 262144;
  }
  if (flags.cpuPeriod !== undefined) r.CpuPeriod = integer(flags.cpuPeriod, 'cpu-period');
  if (flags.cpuQuota !== undefined) r.CpuQuota = integer(flags.cpuQuota, 'cpu-quota');
  if (r.NanoCpus > 0 && (flags.cpuPeriod !== undefined || flags.cpus !== undefined) && r.CpuPeriod > 0) throw new UsageError('conflicting options: Nano CPUs and CPU Period cannot both be set');
  if (r.NanoCpus > 0 && r.CpuQuota > 0) throw new UsageError('conflicting options: Nano CPUs and CPU Quota cannot both be set');
  if (r.CpuPeriod !== 0 && (r.CpuPeriod < 1000 || r.CpuPeriod > 1_000_000)) throw new UsageError('CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)');
  if (r.CpuQuota > 0 && r.CpuQuota < 1000) throw new UsageError('CPU cfs quota can not be less than 1ms (i.e. 1000)');
  if (r.CpuQuota < -1) throw new UsageError(`invalid CPU quota ${r.CpuQuota}`);

  if (flags.cpusetCpus !== undefined) r.CpusetCpus = checkCpuset(flags.cpusetCpus, host.cpusOnline, 'CPUs', 'cpuset-cpus');
  if (flags.cpusetMems !== undefined) r.CpusetMems = checkCpuset(flags.cpusetMems, host.memsOnline, 'memory nodes', 'cpuset-mems');
  if (flags.pidsLimit !== undefined) {
    const n = integer(flags.pidsLimit, 'pids-limit');
    r.PidsLimit = n <= 0 ? (opts.update ? -1 : null) : n;
  }
  if (flags.blkioWeight !== undefined) {
    r.BlkioWeight = integer(flags.blkioWeight, 'blkio-weight');
    if (r.BlkioWeight !== 0 && (r.BlkioWeight < 10 || r.BlkioWeight > 1000)) throw new UsageError('range of blkio weight is from 10 to 1000');
  }
  if (flags.oomScoreAdj !== undefined) {
    r.OomScoreAdj = integer(flags.oomScoreAdj, 'oom-score-adj');
    if (r.OomScoreAdj < -1000 || r.OomScoreAdj > 1000) throw new UsageError(`invalid value ${r.OomScoreAdj}, range for oom score adj is [-1000, 1000]`);
  }
  return r;
}

/** The flags that need a cgroup controller (all but --oom-score-adj, which is per process). */
export function limitFlagsGiven(flags: ResourceFlags): string[] {
  const names: Array<[keyof ResourceFlags, string]> = [
    ['memory', 'memory'], ['memorySwap', 'memory-swap'], ['memoryReservation', 'memory-reservation'], ['memorySwappiness', 'memory-swappiness'],
    ['cpus', 'cpus'], ['cpuShares', 'cpu-shares'], ['cpuPeriod', 'cpu-period'], ['cpuQuota', 'cpu-quota'],
    ['cpusetCpus', 'cpuset-cpus'], ['cpusetMems', 'cpuset-mems'], ['pidsLimit', 'pids-limit'], ['blkioWeight', 'blkio-weight'],
  ];
  return names.filter(([k]) => flags[k] !== undefined).map(([, n]) => `--${n}`);
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
