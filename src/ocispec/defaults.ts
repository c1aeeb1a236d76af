/**
 * Container defaults shared by the spec and plan builders: capabilities, masked and read-only paths, the
 * standard mounts and devices, PATH. Values follow docker (moby daemon/pkg/oci/defaults.go) unless noted;
 * podman's (containers/common pkg/config) lists are kept next to them for reference.
 */
import { TsdockError } from '../errors.js';
import type { LinuxDevice, Mount, RlimitType } from './types.js';

/** Linux capability numbers (<linux/capability.h>), CAP_CHOWN = 0 ... CAP_CHECKPOINT_RESTORE = 40. */
export const CAPABILITIES: Readonly<Record<string, number>> = Object.freeze({
  CAP_CHOWN: 0,
  CAP_DAC_OVERRIDE: 1,
  CAP_DAC_READ_SEARCH: 2,
  CAP_FOWNER: 3,
  CAP_FSETID: 4,
  CAP_KILL: 5,
  CAP_SETGID: 6,
  CAP_SETUID: 7,
  CAP_SETPCAP: 8,
  CAP_LINUX_IMMUTABLE: 9,
  CAP_NET_BIND_SERVICE: 10,
  CAP_NET_BROADCAST: 11,
  CAP_NET_ADMIN: 12,
  CAP_NET_RAW: 13,
  CAP_IPC_LOCK: 14,
  CAP_IPC_OWNER: 15,
  CAP_SYS_MODULE: 16,
  CAP_SYS_RAWIO: 17,
  CAP_SYS_CHROOT: 18,
  CAP_SYS_PTRACE: 19,
  CAP_SYS_PACCT: 20,
  CAP_SYS_ADMIN: 21,
  CAP_SYS_BOOT: 22,
  CAP_SYS_NICE: 23,
  CAP_SYS_RESOURCE: 24,
  CAP_SYS_TIME: 25,
  CAP_SYS_TTY_CONFIG: 26,
  CAP_MKNOD: 27,
  CAP_LEASE: 28,
  CAP_AUDIT_WRITE: 29,
  CAP_AUDIT_CONTROL: 30,
  CAP_SETFCAP: 31,
  CAP_MAC_OVERRIDE: 32,
  CAP_MAC_ADMIN: 33,
  CAP_SYSLOG: 34,
  CAP_WAKE_ALARM: 35,
  CAP_BLOCK_SUSPEND: 36,
  CAP_AUDIT_READ: 37,
  CAP_PERFMON: 38,
  CAP_BPF: 39,
  CAP_CHECKPOINT_RESTORE: 40,
});

/** The highest capability number tsdock knows (the kernel's may be lower: /proc/sys/kernel/cap_last_cap). */
export const LAST_CAP = 40;

const CAP_BY_NUMBER: readonly string[] = Object.entries(CAPABILITIES)
  .sort((a, b) => a[1] - b[1])
  .map(([name]) => name);

export function capabilityNumber(name: string): number | undefined {
  return Object.prototype.hasOwnProperty.call(CAPABILITIES, name) ? CAPABILITIES[name] : undefined;
}

export function capabilityName(n: number): string | undefined {
  return CAP_BY_NUMBER[n];
}

/** Every known capability up to `lastCap` (the kernel's last one), in number order. */
export function allCapabilities(lastCap: number = LAST_CAP): string[] {
  return CAP_BY_NUMBER.filter((_, n) => n <= lastCap);
}

/** docker's 14 default capabilities, in docker's order (CapEff 0x00000000a80425fb). */
export const DEFAULT_CAPABILITIES: readonly string[] = Object.freeze([
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
]);

/** Capability names → the bit mask the kernel uses (bit n = capability n). Unknown names throw. */
export function capabilityMask(names: readonly string[]): bigint {
  let mask = 0n;
  for (const name of names) {
    const n = capabilityNumber(name);
    if (n === undefined) throw new TsdockError(`unknown capability: ${JSON.stringify(name)}`);
    mask |= 1n << BigInt(n);
  }
  return mask;
}

/**
 * docker's masked paths (current moby, including /proc/interrupts and /sys/devices/virtual/powercap from its
 * 2025 advisories; moby also masks each cpu's thermal_throttle, which needs a look at the host and is left out).
 */
export const DOCKER_MASKED_PATHS: readonly string[] = Object.freeze([
  '/proc/acpi',
  '/proc/asound',
  '/proc/interrupts',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/sys/devices/virtual/powercap',
  '/sys/firmware',
]);

export const DOCKER_READONLY_PATHS: readonly string[] = Object.freeze(['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger']);

/** tsdock follows docker. */
export const DEFAULT_MASKED_PATHS = DOCKER_MASKED_PATHS;
export const DEFAULT_READONLY_PATHS = DOCKER_READONLY_PATHS;

export const DEFAULT_PATH_ENV = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** docker's default --shm-size: 64 MiB */
export const DEFAULT_SHM_SIZE = 64 * 1024 * 1024;

/** runc's default umask when the spec has none; tsdock writes it explicitly (as podman does). */
export const DEFAULT_UMASK = 0o022;

/**
 * The standard mounts, docker's list and options, without /sys/fs/cgroup (the cgroups work adds it).
 * `rootless` (tsdock inside its own user namespace): devpts gets no gid=5 (gid 5 may be unmapped), and /sys is
 * the host's bind-mounted read-only when there is no new network namespace (sysfs can only be mounted by the
 * owner of the netns). /dev/mqueue is a fresh mqueue mount in both modes: the container always gets its own IPC
 * namespace, which our user namespace owns, so the mount is allowed (podman binds the host's, which many hosts,
 * this one included, do not have).
 */
export function defaultMounts(opts: { rootless: boolean; newNetns: boolean; shmSize?: number }): Mount[] {
  const mounts: Mount[] = [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    {
      destination: '/dev/pts',
      type: 'devpts',
      source: 'devpts',
      options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', ...(opts.rootless ? [] : ['gid=5'])],
    },
    opts.rootless && !opts.newNetns
      ? { destination: '/sys', type: 'bind', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro'] }
      : { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', `size=${opts.shmSize ?? DEFAULT_SHM_SIZE}`] },
  ];
  return mounts;
}

/**
 * The devices every container gets (runtime-spec config-linux.md "Default devices"), 0666 root:root.
 * /dev/console (5,1) is the terminal's pty slave, bound only with -t; /dev/ptmx is a symlink to pts/ptmx.
 */
export const DEFAULT_DEVICES: readonly LinuxDevice[] = Object.freeze([
  { path: '/dev/null', type: 'c', major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/zero', type: 'c', major: 1, minor: 5, fileMode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/full', type: 'c', major: 1, minor: 7, fileMode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/random', type: 'c', major: 1, minor: 8, fileMode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/urandom', type: 'c', major: 1, minor: 9, fileMode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/tty', type: 'c', major: 5, minor: 0, fileMode: 0o666, uid: 0, gid: 0 },
] satisfies LinuxDevice[]);

/** The /dev symlinks runc creates (setupDevSymlinks + ptmx), link path → target. docker keeps /dev/core. */
export const DEFAULT_DEV_SYMLINKS: readonly { path: string; target: string }[] = Object.freeze([
  { path: '/dev/ptmx', target: 'pts/ptmx' },
  { path: '/dev/fd', target: '/proc/self/fd' },
  { path: '/dev/stdin', target: '/proc/self/fd/0' },
  { path: '/dev/stdout', target: '/proc/self/fd/1' },
  { path: '/dev/stderr', target: '/proc/self/fd/2' },
  { path: '/dev/core', target: '/proc/kcore' },
]);

/** RLIMIT_* numbers (<asm-generic/resource.h>), and the `--ulimit` names docker accepts. */
export const RLIMITS: Readonly<Record<RlimitType, number>> = Object.freeze({
  RLIMIT_CPU: 0,
  RLIMIT_FSIZE: 1,
  RLIMIT_DATA: 2,
  RLIMIT_STACK: 3,
  RLIMIT_CORE: 4,
  RLIMIT_RSS: 5,
  RLIMIT_NPROC: 6,
  RLIMIT_NOFILE: 7,
  RLIMIT_MEMLOCK: 8,
  RLIMIT_AS: 9,
  RLIMIT_LOCKS: 10,
  RLIMIT_SIGPENDING: 11,
  RLIMIT_MSGQUEUE: 12,
  RLIMIT_NICE: 13,
  RLIMIT_RTPRIO: 14,
  RLIMIT_RTTIME: 15,
});

/** podman's default for RLIMIT_NOFILE and RLIMIT_NPROC (define.RLimitDefaultValue), capped to the hard limit. */
export const DEFAULT_RLIMIT = 1048576;

