/**
 * cgroup v1: one directory per hierarchy (memory, cpu, cpuacct, cpuset, pids, freezer, blkio, ...), the same
 * relative path in each. `hierarchies` maps a controller name to its mount directory; controllers mounted
 * together (cpu,cpuacct) share one directory, which is then visited once. Unit tests pass a fake tree.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { LinuxResources } from '../ocispec/types.js';
import { CgroupError, killPid, mkdirCg, readCg, readKeyed, readNum, readPids, rmdirCg, sleep, writeCg } from './fsutil.js';
import type { Cgroup, CgroupPlacement, CgroupStats } from './types.js';

/** v1 reports "no limit" as the largest page-aligned long */
const V1_UNLIMITED = 2 ** 62;

export class CgroupV1 implements Cgroup {
  readonly version = 1 as const;
  readonly path: string;
  private readonly h: ReadonlyMap<string, string>;

  constructor(hierarchies: ReadonlyMap<string, string>, cgPath: string) {
    this.h = hierarchies;
    this.path = cgPath;
  }

  private dirOf(controller: string): string | undefined {
    const mount = this.h.get(controller);
    return mount === undefined ? undefined : path.join(mount, this.path);
  }

  /** each distinct hierarchy directory once */
  private dirs(): string[] {
    return [...new Set(this.h.values())].map((m) => path.join(m, this.path));
  }

  private need(controller: string, what: string): string {
    const d = this.dirOf(controller);
    if (!d) throw new CgroupError(`cgroup v1: the ${controller} controller is not mounted (needed for ${what})`, controller);
    return d;
  }

  create(): void {
    for (const mount of new Set(this.h.values())) {
      const isCpuset = this.h.get('cpuset') === mount;
      let dir = mount;
      for (const part of this.path.split('/').filter(Boolean)) {
        const parent = dir;
        dir = path.join(dir, part);
        mkdirCg(dir);
        // a new cpuset cgroup starts with empty cpus/mems, and an empty cpuset takes no process: inherit them
        if (isCpuset) {
          for (const f of ['cpuset.cpus', 'cpuset.mems']) {
            if (!readCg(path.join(dir, f))?.trim()) writeCg(path.join(dir, f), readCg(path.join(parent, f))?.trim() ?? '');
          }
        }
      }
    }
  }

  apply(r: LinuxResources | undefined): void {
    if (!r) return;
    const m = r.memory;
    if (m && (m.limit !== undefined || m.swap !== undefined || m.reservation !== undefined || m.swappiness !== undefined)) {
      const dir = this.need('memory', '--memory');
      if (m.limit !== undefined || m.swap !== undefined) this.setMemory(dir, m.limit, m.swap);
      if (m.reservation !== undefined) writeCg(path.join(dir, 'memory.soft_limit_in_bytes'), m.reservation);
      if (m.swappiness !== undefined) writeCg(path.join(dir, 'memory.swappiness'), m.swappiness);
    }
    const c = r.cpu;
    if (c) {
      if (c.shares !== undefined || c.period !== undefined || c.quota !== undefined) {
        const dir = this.need('cpu', '--cpus/--cpu-shares');
        if (c.shares !== undefined) writeCg(path.join(dir, 'cpu.shares'), c.shares);
        // the period first: a quota is checked against the current period
        if (c.period !== undefined) writeCg(path.join(dir, 'cpu.cfs_period_us'), c.period);
        if (c.quota !== undefined) writeCg(path.join(dir, 'cpu.cfs_quota_us'), c.quota);
      }
      if (c.cpus !== undefined || c.mems !== undefined) {
        const dir = this.need('cpuset', '--cpuset-cpus/--cpuset-mems');
        if (c.cpus !== undefined) writeCg(path.join(dir, 'cpuset.cpus'), c.cpus);
        if (c.mems !== undefined) writeCg(path.join(dir, 'cpuset.mems'), c.mems);
      }
    }
    // device rules in order ("a" = every device); a host without the devices hierarchy has no such control
    const devices = this.dirOf('devices');
    if (r.devices?.length && devices) {
      for (const d of r.devices) {
        const rule = !d.type || d.type === 'a' ? 'a' : `${d.type} ${d.major ?? '*'}:${d.minor ?? '*'} ${d.access ?? 'rwm'}`;
        writeCg(path.join(devices, d.allow ? 'devices.allow' : 'devices.deny'), rule);
      }
    }
    if (r.pids) writeCg(path.join(this.need('pids', '--pids-limit'), 'pids.max'), r.pids.limit > 0 ? r.pids.limit : 'max');
    if (r.blockIO?.weight !== undefined) {
      const dir = this.need('blkio', '--blkio-weight');
      const file = ['blkio.weight', 'blkio.bfq.weight'].map((f) => path.join(dir, f)).find((f) => fs.existsSync(f));
      if (!file) throw new CgroupError(`cgroup v1: ${dir} has no blkio.weight (the kernel's I/O scheduler does not support weights; --blkio-weight)`, dir);
      writeCg(file, r.blockIO.weight);
    }
  }

  /**
   * memory.limit_in_bytes and memory.memsw.limit_in_bytes (memory + swap) must keep limit <= memsw at every
   * moment: raising writes memsw first, lowering the limit first.
   */
  private setMemory(dir: string, limit: number | undefined, swap: number | undefined): void {
    const lim = path.join(dir, 'memory.limit_in_bytes');
    const sw = path.join(dir, 'memory.memsw.limit_in_bytes');
    const hasSwap = fs.existsSync(sw);
    const write = (file: string, v: number) => writeCg(file, v < 0 ? -1 : v);
    if (swap === undefined || !hasSwap) {
      if (limit !== undefined) write(lim, limit);
      return;
    }
    const current = readNum(lim);
    if (limit !== undefined && (swap < 0 || (current > 0 && current < V1_UNLIMITED && limit > current))) {
      write(sw, swap);
      write(lim, limit);
    } else {
      if (limit !== undefined) write(lim, limit);
      write(sw, swap);
    }
  }

  exists(): boolean {
    const d = this.dirs()[0];
    return d !== undefined && fs.existsSync(d);
  }

  procsFiles(): string[] {
    return this.dirs().map((d) => path.join(d, 'cgroup.procs'));
  }

  placement(): CgroupPlacement {
    return { cgroupTasks: this.dirs().map((d) => path.join(d, 'tasks')) };
  }

  pids(): number[] {
    const d = this.dirOf('pids') ?? this.dirOf('freezer') ?? this.dirs()[0];
    return d ? readPids(path.join(d, 'cgroup.procs')) : [];
  }

  frozen(): boolean {
    const d = this.dirOf('freezer');
    return d !== undefined && readCg(path.join(d, 'freezer.state'))?.trim() === 'FROZEN';
  }

  private async setFreezer(state: 'FROZEN' | 'THAWED'): Promise<void> {
    const file = path.join(this.need('freezer', state === 'FROZEN' ? 'pause' : 'unpause'), 'freezer.state');
    // freezing may stop halfway (FREEZING) while tasks are busy in the kernel: write again until it holds
    for (let i = 0; i < 500; i++) {
      writeCg(file, state);
      if (readCg(file)?.trim() === state) return;
      await sleep(i < 10 ? 1 : 10);
    }
    throw new CgroupError(`cgroup v1: ${file} did not reach ${state}`, file);
  }

  freeze(): Promise<void> {
    return this.setFreezer('FROZEN');
  }

  thaw(): Promise<void> {
    return this.setFreezer('THAWED');
  }

  async kill(): Promise<void> {
    if (!this.exists()) return;
    const canFreeze = this.dirOf('freezer') !== undefined && fs.existsSync(this.dirOf('freezer')!);
    // frozen, nothing can fork between reading cgroup.procs and killing what it lists
    for (let round = 0; round < 100; round++) {
      if (canFreeze) await this.freeze();
      const pids = this.pids();
      for (const pid of pids) killPid(pid);
      if (canFreeze) await this.thaw();
      if (!pids.length) return;
      await sleep(5);
    }
  }

  async remove(): Promise<void> {
    if (!this.exists()) return;
    await this.kill();
    const busy: string[] = [];
    for (const d of this.dirs()) if (!(await rmdirCg(d))) busy.push(d);
    if (busy.length) throw new CgroupError(`cgroup v1: ${busy[0]} is still busy (processes did not exit)`, busy[0]!);
  }

  removeParent(): void {
    for (const m of new Set(this.h.values())) {
      try {
        fs.rmdirSync(path.dirname(path.join(m, this.path)));
      } catch {
        // busy (other containers) or gone
      }
    }
  }

  stats(): CgroupStats {
    const mem = this.dirOf('memory');
    const usage = mem ? readNum(path.join(mem, 'memory.usage_in_bytes')) : 0;
    const mstat = mem ? readKeyed(path.join(mem, 'memory.stat')) : new Map<string, number>();
    const limit = mem ? readNum(path.join(mem, 'memory.limit_in_bytes')) : 0;
    const acct = this.dirOf('cpuacct');
    const pids = this.dirOf('pids');
    let read = 0;
    let write = 0;
    const blk = this.dirOf('blkio');
    for (const line of (blk ? readCg(path.join(blk, 'blkio.throttle.io_service_bytes_recursive')) ?? readCg(path.join(blk, 'blkio.throttle.io_service_bytes')) ?? '' : '').split('\n')) {
      const [, op, v] = line.trim().split(/\s+/);
      if (op === 'Read') read += Number(v) || 0;
      else if (op === 'Write') write += Number(v) || 0;
    }
    return {
      cpuUsageNs: acct ? readNum(path.join(acct, 'cpuacct.usage')) : 0,
      memoryUsage: Math.max(0, usage - (mstat.get('total_inactive_file') ?? 0)),
      memoryLimit: limit >= V1_UNLIMITED ? 0 : limit,
      pids: pids ? readNum(path.join(pids, 'pids.current')) : this.pids().length,
      blkioRead: read,
      blkioWrite: write,
    };
  }

  oomFile(): string | undefined {
    const d = this.dirOf('memory');
    return d ? path.join(d, 'memory.oom_control') : undefined;
  }

  oomKills(): number {
    const f = this.oomFile();
    return f ? (readKeyed(f).get('oom_kill') ?? 0) : 0;
  }
}
