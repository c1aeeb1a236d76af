/**
 * OCI runtime-spec types (https://github.com/opencontainers/runtime-spec, config.md and config-linux.md), the
 * subset tsdock produces and reads. Field names are the spec's, so `JSON.stringify(spec)` is a valid
 * `config.json`. Hooks, Windows/Solaris/VM sections and the cgroup resource details are left out.
 *
 * tsdock extensions are marked as such: they are extra properties, which OCI runtimes must ignore
 * (config.md: "Implementations ... MUST NOT generate an error if they encounter an unknown property").
 */

export const OCI_VERSION = '1.2.0';

/** RLIM_INFINITY (2^64 - 1) as a JS number reads as 2^64; buildPlan maps any value ≥ 2^63 to RLIM_INFINITY. */
export const RLIM_INFINITY = 2 ** 64;

export interface Spec {
  ociVersion: string;
  process?: Process;
  root?: Root;
  hostname?: string;
  domainname?: string;
  mounts?: Mount[];
  annotations?: Record<string, string>;
  linux?: Linux;
}

export interface Process {
  terminal?: boolean;
  consoleSize?: { height: number; width: number };
  user: User;
  args?: string[];
  env?: string[];
  cwd: string;
  capabilities?: LinuxCapabilities;
  rlimits?: POSIXRlimit[];
  noNewPrivileges?: boolean;
  apparmorProfile?: string;
  oomScoreAdj?: number;
  selinuxLabel?: string;
}

export interface User {
  uid: number;
  gid: number;
  umask?: number;
  additionalGids?: number[];
  username?: string;
}

export interface Root {
  path: string;
  readonly?: boolean;
}

export interface Mount {
  destination: string;
  source?: string;
  /** mount(8)-style options: flags (ro, nosuid, rbind, rprivate, ...) and filesystem data (mode=755, ...) */
  options?: string[];
  type?: string;
  uidMappings?: LinuxIDMapping[];
  gidMappings?: LinuxIDMapping[];
  /**
   * tsdock extension: what the bind source is, so the mount point can be created with the same kind without
   * looking at the host (the plan builder is pure). Absent: a directory.
   */
  'tsdock.sourceType'?: 'dir' | 'file';
}

export interface LinuxCapabilities {
  bounding?: string[];
  effective?: string[];
  inheritable?: string[];
  permitted?: string[];
  ambient?: string[];
}

export type RlimitType =
  | 'RLIMIT_CPU'
  | 'RLIMIT_FSIZE'
  | 'RLIMIT_DATA'
  | 'RLIMIT_STACK'
  | 'RLIMIT_CORE'
  | 'RLIMIT_RSS'
  | 'RLIMIT_NPROC'
  | 'RLIMIT_NOFILE'
  | 'RLIMIT_MEMLOCK'
  | 'RLIMIT_AS'
  | 'RLIMIT_LOCKS'
  | 'RLIMIT_SIGPENDING'
  | 'RLIMIT_MSGQUEUE'
  | 'RLIMIT_NICE'
  | 'RLIMIT_RTPRIO'
  | 'RLIMIT_RTTIME';

export interface POSIXRlimit {
  type: RlimitType;
  /** RLIM_INFINITY is written as the number RLIM_INFINITY (see above) */
  hard: number;
  soft: number;
}

export type NamespaceType = 'pid' | 'network' | 'mount' | 'ipc' | 'uts' | 'user' | 'cgroup' | 'time';

export interface LinuxNamespace {
  type: NamespaceType;
  /** join an existing namespace (not supported by tsdock's plan builder) */
  path?: string;
}

export interface LinuxIDMapping {
  containerID: number;
  hostID: number;
  size: number;
}

export interface LinuxDevice {
  path: string;
  type: 'c' | 'b' | 'u' | 'p';
  major: number;
  minor: number;
  fileMode?: number;
  uid?: number;
  gid?: number;
}

export interface LinuxDeviceCgroup {
  allow: boolean;
  type?: string;
  major?: number;
  minor?: number;
  access?: string;
}

/** runtime-spec config-linux.md "Memory"; bytes, -1 = unlimited. `swap` is memory + swap (runc's v1 meaning). */
export interface LinuxMemory {
  limit?: number;
  reservation?: number;
  swap?: number;
  swappiness?: number;
  disableOOMKiller?: boolean;
}

/** runtime-spec config-linux.md "CPU"; quota/period in microseconds */
export interface LinuxCPU {
  shares?: number;
  quota?: number;
  period?: number;
  cpus?: string;
  mems?: string;
}

export interface LinuxResources {
  devices?: LinuxDeviceCgroup[];
  memory?: LinuxMemory;
  cpu?: LinuxCPU;
  pids?: { limit: number };
  blockIO?: { weight?: number };
  unified?: Record<string, string>;
}

export interface LinuxSeccompArg {
  index: number;
  value: number;
  valueTwo?: number;
  op: string;
}

export interface LinuxSyscall {
  names: string[];
  action: string;
  errnoRet?: number;
  args?: LinuxSeccompArg[];
}

export interface LinuxSeccomp {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  flags?: string[];
  syscalls?: LinuxSyscall[];
}

export interface Linux {
  namespaces?: LinuxNamespace[];
  uidMappings?: LinuxIDMapping[];
  gidMappings?: LinuxIDMapping[];
  devices?: LinuxDevice[];
  sysctl?: Record<string, string>;
  resources?: LinuxResources;
  cgroupsPath?: string;
  seccomp?: LinuxSeccomp;
  rootfsPropagation?: string;
  maskedPaths?: string[];
  readonlyPaths?: string[];
  mountLabel?: string;
}
