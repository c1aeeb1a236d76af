/**
 * cgroup v2: one unified tree at `mount`. Controllers reach a cgroup only when every ancestor lists them in
 * cgroup.subtree_control, so create() enables what the parent chain offers (cgroup.controllers) on the way down;
 * apply() fails with a clear message when a limit needs a controller the chain does not offer (no delegation).
 * Freezing (cgroup.freeze) and killing (cgroup.kill) are core files: they work with no controller at all.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { LinuxResources } from '../ocispec/types.js';
import { CgroupError, killPid, mkdirCg, readCg, readKeyed, readNum, readPids, rmdirCg, sleep, writeCg } from './fsutil.js';
import type { Cgroup, CgroupPlacement, CgroupStats } from './types.js';

/** the controllers a container's limits use */
export const V2_CONTROLLERS = ['cpu', 'cpuset', 'io', 'memory', 'pids'] as const;

/** runc's conversion of cpu.shares (2..262144) to cpu.weight (1..10000) */
export function sharesToWeight(shares: number): number {
  return shares === 0 ? 0 : 1 + Math.floor(((shares - 2) * 9999) / 262142);
}

/** blkio weight (10..1000) to io.weight (1..10000) */
export function blkioToIoWeight(w: number): number {
  return 1 + Math.floor(((w - 10) * 9999) / 990);
}

export class CgroupV2 implements Cgroup {
  readonly version = 2 as const;
  readonly path: string;
  readonly mount: string;
  readonly dir: string;

  constructor(mount: string, cgPath: string) {
    this.mount = mount;
    this.path = cgPath;
    this.dir = path.join(mount, cgPath);
  }

  private file(name: string): string {
    return path.join(this.dir, name);
  }

  /** controllers this cgroup can use: the parent's cgroup.subtree_control */
  available(): Set<string> {
    const parent = path.dirname(this.dir);
    return new Set((readCg(path.join(parent, 'cgroup.subtree_control')) ?? '').trim().split(/\s+/).filter(Boolean).map((c) => c.replace(/^\+/, '')));
  }

  create(): void {
    const parts = this.path.split('/').filter(Boolean);
    let dir = this.mount;
    for (const part of parts) {
      // enable in `dir` what it has, for its children (a cgroup with processes refuses: EBUSY, left as is)
      const has = new Set((readCg(path.join(dir, 'cgroup.controllers')) ?? '').trim().split(/\s+/));
      const enabled = new Set((readCg(path.join(dir, 'cgroup.subtree_control')) ?? '').trim().split(/\s+/));
      const add = V2_CONTROLLERS.filter((c) => has.has(c) && !enabled.has(c));
      if (add.length) {
        try {
          writeCg(path.join(dir, 'cgroup.subtree_control'), add.map((c) => `+${c}`).join(' '));
        } catch (err) {
          // not fatal here: apply() names the missing controller if a limit needs it
          if ((err as CgroupError).code !== 'EBUSY' && (err as CgroupError).code !== 'EACCES' && (err as CgroupError).code !== 'ENOTSUP') throw err;
        }
      }
      dir = path.join(dir, part);
      mkdirCg(dir);
    }
  }

  private need(controller: string, flag: string): void {
    if (!this.available().has(controller)) {
      throw new CgroupError(
        `cgroup v2: the ${controller} controller is not available in ${path.dirname(this.dir)} (not enabled or not delegated to this user), needed for ${flag}`,
        path.dirname(this.dir),
      );
    }
  }

  /** the controllers `r` needs that this cgroup cannot use */
  missing(r: LinuxResources | undefined): string[] {
    const want = neededControllers(r);
    const have = this.available();
    return want.filter((c) => !have.has(c));
  }

  apply(r: LinuxResources | undefined): void {
    if (!r) return;
    const m = r.memory;
    if (m && (m.limit !== undefined || m.swap !== undefined || m.reservation !== undefined)) {
      this.need('memory', '--memory');
      if (m.limit !== undefined) writeCg(this.file('memory.max'), m.limit > 0 ? m.limit : 'max');
      if (m.swap !== undefined && fs.existsSync(this.file('memory.swap.max'))) {
        // v2's swap.max is swap alone; docker's --memory-swap is memory + swap
        const limit = m.limit ?? readNum(this.file('memory.max'));
        writeCg(this.file('memory.swap.max'), m.swap < 0 || limit <= 0 ? 'max' : Math.max(0, m.swap - limit));
      }
      if (m.reservation !== undefined) writeCg(this.file('memory.low'), m.reservation);
    }
    const c = r.cpu;
    if (c) {
      if (c.shares !== undefined || c.quota !== undefined || c.period !== undefined) {
        this.need('cpu', '--cpus/--cpu-shares');
        if (c.shares !== undefined) writeCg(this.file('cpu.weight'), sharesToWeight(c.shares));
        if (c.quota !== undefined || c.period !== undefined) {
          const [curQuota, curPeriod] = (readCg(this.file('cpu.max')) ?? 'max 100000').trim().split(/\s+/);
          const quota = c.quota === undefined ? curQuota : c.quota > 0 ? String(c.quota) : 'max';
          writeCg(this.file('cpu.max'), `${quota} ${c.period ?? curPeriod ?? 100000}`);
        }
      }
      if (c.cpus !== undefined || c.mems !== undefined) {
        this.need('cpuset', '--cpuset-cpus/--cpuset-mems');
        if (c.cpus !== undefined) writeCg(this.file('cpuset.cpus'), c.cpus);
        if (c.mems !== undefined) writeCg(this.file('cpuset.mems'), c.mems);
      }
    }
    if (r.pids) {
      this.need('pids', '--pids-limit');
      writeCg(this.file('pids.max'), r.pids.limit > 0 ? r.pids.limit : 'max');
    }
    if (r.blockIO?.weight !== undefined) {
      this.need('io', '--blkio-weight');
      if (fs.existsSync(this.file('io.bfq.weight'))) writeCg(this.file('io.bfq.weight'), r.blockIO.weight);
      else writeCg(this.file('io.weight'), `default ${blkioToIoWeight(r.blockIO.weight)}`);
    }
    for (const [k, v] of Object.entries(r.unified ?? {})) writeCg(this.file(k), v);
  }

  exists(): boolean {
    return fs.existsSync(this.dir);
  }

  procsFiles(): string[] {
    return [this.file('cgroup.procs')];
  }

  placement(): CgroupPlacement {
    return { cgroupDir: this.dir, cgroupProcs: this.procsFiles() };
  }

  pids(): number[] {
    return readPids(this.file('cgroup.procs'));
  }

  frozen(): boolean {
    return readKeyed(this.file('cgroup.events')).get('frozen') === 1;
  }

  private async setFrozen(on: boolean): Promise<void> {
    writeCg(this.file('cgroup.freeze'), on ? 1 : 0);
    // the write returns at once; cgroup.events says when every task has actually stopped (or thawed)
    for (let i = 0; i < 500; i++) {
      if (this.frozen() === on) return;
      await sleep(i < 10 ? 1 : 10);
    }
    throw new CgroupError(`cgroup v2: ${this.dir} did not ${on ? 'freeze' : 'thaw'}`, this.dir);
  }

  freeze(): Promise<void> {
    return this.setFrozen(true);
  }

  thaw(): Promise<void> {
    return this.setFrozen(false);
  }

  async kill(): Promise<void> {
    if (!this.exists()) return;
    if (fs.existsSync(this.file('cgroup.kill'))) {
      writeCg(this.file('cgroup.kill'), 1);
    } else {
      // kernels before 5.14: freeze, kill each, thaw
      await this.freeze();
      for (const pid of this.pids()) killPid(pid);
      await this.thaw();
    }
    // wait (bounded) until the kernel has emptied it
    for (let i = 0; i < 200 && readKeyed(this.file('cgroup.events')).get('populated') === 1; i++) await sleep(5);
  }

  async remove(): Promise<void> {
    if (!this.exists()) return;
    await this.kill();
    if (!(await rmdirCg(this.dir))) throw new CgroupError(`cgroup v2: ${this.dir} is still busy (processes did not exit)`, this.dir);
  }

  removeParent(): void {
    try {
      fs.rmdirSync(path.dirname(this.dir));
    } catch {
      // busy (other containers) or gone
    }
  }

  stats(): CgroupStats {
    const mstat = readKeyed(this.file('memory.stat'));
    const cpu = readKeyed(this.file('cpu.stat'));
    let read = 0;
    let write = 0;
    for (const line of (readCg(this.file('io.stat')) ?? '').split('\n')) {
      for (const kv of line.trim().split(/\s+/).slice(1)) {
        const [k, v] = kv.split('=');
        if (k === 'rbytes') read += Number(v) || 0;
        else if (k === 'wbytes') write += Number(v) || 0;
      }
    }
    return {
      cpuUsageNs: (cpu.get('usage_usec') ?? 0) * 1000,
      memoryUsage: Math.max(0, readNum(this.file('memory.current')) - (mstat.get('inactive_file') ?? 0)),
      memoryLimit: readNum(this.file('memory.max')),
      pids: fs.existsSync(this.file('pids.current')) ? readNum(this.file('pids.current')) : this.pids().length,
      blkioRead: read,
      blkioWrite: write,
    };
  }

  oomFile(): string | undefined {
    return this.file('memory.events');
  }

  oomKills(): number {
    return readKeyed(this.file('memory.events')).get('oom_kill') ?? 0;
  }
}

/** the v2 controllers a set of limits needs */
export function neededControllers(r: LinuxResources | undefined): string[] {
  if (!r) return [];
  const out: string[] = [];
  const m = r.memory;
  if (m && (m.limit !== undefined || m.swap !== undefined || m.reservation !== undefined)) out.push('memory');
  if (r.cpu && (r.cpu.shares !== undefined || r.cpu.quota !== undefined || r.cpu.period !== undefined)) out.push('cpu');
  if (r.cpu && (r.cpu.cpus !== undefined || r.cpu.mems !== undefined)) out.push('cpuset');
  if (r.pids) out.push('pids');
  if (r.blockIO?.weight !== undefined) out.push('io');
  return out;
}
