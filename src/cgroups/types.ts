/**
 * One interface over cgroup v1 and v2 (docs/architecture.md, "Cgroups"). A container's cgroup is created and its
 * limits written by TypeScript before the executor runs; the executor writes the init's pid into `procsFiles()`
 * before it lets the init go on, so the command never runs outside its cgroup.
 */
import type { LinuxResources } from '../ocispec/types.js';

export type CgroupVersion = 1 | 2;

/** the ExecPlan fields that place a process in a cgroup */
export interface CgroupPlacement {
  cgroupProcs?: string[];
  cgroupTasks?: string[];
  cgroupDir?: string;
}

/** Where a container's cgroup lives, recorded in container.json so every later command opens the same one. */
export interface CgroupLocation {
  version: CgroupVersion;
  /** the cgroup's path below the hierarchy root, e.g. /tsdock/<id> */
  path: string;
  /** v2: the cgroup2 mount point (/sys/fs/cgroup, or /sys/fs/cgroup/unified on a hybrid host) */
  mount?: string;
}

/** What `stats` shows, read from the cgroup (docker's columns). */
export interface CgroupStats {
  /** total CPU time of the cgroup, nanoseconds */
  cpuUsageNs: number;
  /** docker's "MEM USAGE": usage minus inactive page cache, bytes */
  memoryUsage: number;
  /** the memory limit in bytes, or 0 when unlimited */
  memoryLimit: number;
  pids: number;
  blkioRead: number;
  blkioWrite: number;
}

export interface Cgroup {
  readonly version: CgroupVersion;
  readonly path: string;
  /** mkdir (parents prepared: v1 cpuset values, v2 subtree_control); fine when it exists */
  create(): void;
  /** write the limits (create, update); throws CgroupError naming the file */
  apply(resources: LinuxResources | undefined): void;
  exists(): boolean;
  /** the cgroup.procs files (one per v1 hierarchy) */
  procsFiles(): string[];
  /**
   * How the executor puts a new process in: v2 clones it straight into the directory (CLONE_INTO_CGROUP, with
   * cgroup.procs as the fallback); v1 has the released child write itself into each hierarchy's `tasks` (a
   * thread moving itself skips the global lock whose RCU grace period costs ~17 ms). See ExecPlan.
   */
  placement(): CgroupPlacement;
  /** pids of every process in the cgroup */
  pids(): number[];
  freeze(): Promise<void>;
  thaw(): Promise<void>;
  frozen(): boolean;
  /** SIGKILL every process in it (v2 cgroup.kill; v1 frozen, then each pid, then thawed) */
  kill(): Promise<void>;
  /** kill what is left, then rmdir; no error when it is already gone */
  remove(): Promise<void>;
  /** rmdir the parent cgroup(s) if empty (best effort: busy or gone is fine) */
  removeParent(): void;
  stats(): CgroupStats;
  /** how many processes the kernel's OOM killer took in this cgroup (since it was created) */
  oomKills(): number;
  /** the file whose `oom_kill N` line counts them (memory.events / memory.oom_control) */
  oomFile(): string | undefined;
}
