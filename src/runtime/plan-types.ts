/**
 * The executor plan: everything the small C executor (native/tsdock-exec.c) carries out to start a container,
 * decided entirely in TypeScript. The executor has no policy: it runs these steps in order, reports the first
 * failure (step index + errno) and never chooses anything itself.
 *
 * Built by src/runtime/plan.ts from an OCI runtime spec; encoded by src/runtime/plan-encode.ts.
 */

/** clone(2) namespace flags (values from <linux/sched.h>) */
export const CLONE = {
  NEWNS: 0x00020000,
  NEWCGROUP: 0x02000000,
  NEWUTS: 0x04000000,
  NEWIPC: 0x08000000,
  NEWUSER: 0x10000000,
  NEWPID: 0x20000000,
  NEWNET: 0x40000000,
} as const;

/** mount(2) flags (values from <linux/mount.h>) */
/** mount_setattr(2) attributes */
export const MOUNT_ATTR = { RDONLY: 0x1, NOSUID: 0x2, NODEV: 0x4, NOEXEC: 0x8 } as const;

export const MS = {
  RDONLY: 1,
  NOSUID: 2,
  NODEV: 4,
  NOEXEC: 8,
  SYNCHRONOUS: 16,
  REMOUNT: 32,
  MANDLOCK: 64,
  DIRSYNC: 128,
  NOSYMFOLLOW: 256,
  NOATIME: 1024,
  NODIRATIME: 2048,
  BIND: 4096,
  MOVE: 8192,
  REC: 16384,
  SILENT: 32768,
  UNBINDABLE: 1 << 17,
  PRIVATE: 1 << 18,
  SLAVE: 1 << 19,
  SHARED: 1 << 20,
  RELATIME: 1 << 21,
  STRICTATIME: 1 << 24,
} as const;

export interface IdMapping {
  containerId: number;
  hostId: number;
  size: number;
}

/**
 * How the user namespace gets its maps, done by the executor's parent side after clone() and before it lets the
 * child continue: either written directly to /proc/<pid>/{uid_map,gid_map} (privileged, or a single mapping of
 * ourselves), or by running newuidmap/newgidmap (rootless with /etc/subuid ranges). In `commands`, the argument
 * "{pid}" is replaced by the child's pid.
 */
export type IdMapPlan =
  | { kind: 'write'; uidMap: IdMapping[]; gidMap: IdMapping[]; setgroups: 'allow' | 'deny' }
  | { kind: 'commands'; uidCommand: string[]; gidCommand: string[] };

/** One setup step, run by the container's init process in its new namespaces, in plan order. */
export type PlanStep =
  /**
   * mount(2). With `root`, `target` is resolved inside that directory without ever leaving it
   * (openat2 RESOLVE_IN_ROOT) and the mount goes through the resolved fd (/proc/self/fd/N), so a symlink in the
   * container cannot redirect it to the host. `create` makes a missing target (and its parents) in that root
   * first. `optional`: a missing target (ENOENT) is not an error (masked paths).
   */
  | {
      op: 'mount';
      source: string;
      target: string;
      fstype: string;
      flags: number;
      data: string;
      root?: string;
      create?: 'dir' | 'file';
      optional?: boolean;
      label?: string;
      /**
       * MOUNT_ATTR_* bits the executor then sets on the whole mounted tree (mount_setattr AT_RECURSIVE, Linux
       * 5.12): MOUNT_ATTR.RDONLY for a read-only rbind, whose submounts a remount leaves writable
       */
      recursiveAttrs?: number;
    }
  /** mkdir -p, inside `root` when given (same resolution rules as mount), with `mode` for created dirs */
  | { op: 'mkdir'; path: string; mode: number; root?: string; uid?: number; gid?: number }
  /** symlink(target, path); EEXIST is not an error */
  | { op: 'symlink'; target: string; path: string }
  /** mknod(path, mode, makedev(major, minor)) then chown; EEXIST is not an error */
  | { op: 'mknod'; path: string; mode: number; major: number; minor: number; uid: number; gid: number }
  /** chdir(2); used before pivot_root and to set relative mount option paths (long layer lists) */
  | { op: 'chdir'; path: string }
  /** pivot_root(root, root) then umount2(".", MNT_DETACH) (runc's trick: no put_old directory needed); chdir("/") */
  | { op: 'pivot_root'; root: string }
  | { op: 'sethostname'; name: string }
  | { op: 'setdomainname'; name: string }
  /** open(path, O_WRONLY|O_TRUNC) + write; e.g. /proc/self/oom_score_adj or a sysctl under /proc/sys */
  | { op: 'write'; path: string; data: string }
  /** runc's maskPath: bind /dev/null over a file, or mount a read-only empty tmpfs over a directory; ENOENT ignored */
  | { op: 'mask'; path: string }
  /** bind-mount path onto itself and remount it read-only (nosuid,nodev,noexec kept); ENOENT ignored */
  | { op: 'readonly'; path: string }
  /** mount --make-r{private,slave,shared} of a path */
  | { op: 'propagation'; path: string; flags: number }
  /** the container side of its network (own netns, before pivot_root): ip link set <name> up */
  | { op: 'netup'; name: string }
  /** ip addr add <address>/<prefix> dev <name> (IPv4 or IPv6; IPv6 without duplicate address detection) */
  | { op: 'netaddr'; name: string; address: string; prefix: number }
  /** ip route add default via <gateway> */
  | { op: 'netroute'; gateway: string };

/** A published host port the executor binds (never listens on) before the clone and holds while it lives. */
export interface PortReservation {
  protocol: 'tcp' | 'udp' | 'sctp';
  /** IPv4 address to bind: 0.0.0.0 for every address */
  hostIp: string;
  hostPort: number;
}

/** A veth pair the executor makes after the clone: `host` on `bridge` (up), `peer` inside the child's netns. */
export interface VethPlan {
  host: string;
  peer: string;
  /** the peer's MAC (aa:bb:...), or '' for the kernel's random one */
  mac: string;
  bridge: string;
  /** 0: the kernel's default */
  mtu: number;
}

export interface Rlimit {
  /** RLIMIT_* number (e.g. RLIMIT_NOFILE = 7) */
  resource: number;
  soft: bigint;
  hard: bigint;
}

export interface CapabilitySets {
  bounding: bigint;
  effective: bigint;
  permitted: bigint;
  inheritable: bigint;
  ambient: bigint;
}

export interface PlanProcess {
  /** argv; argv[0] as the user wrote it */
  args: string[];
  /**
   * Absolute paths to try for the executable, in order (PATH lookup already done in TypeScript). The executor
   * tries each with execve: ENOENT/ENOTDIR → the next; any other error stops. All missing → exit 127;
   * present but not executable (EACCES, ENOEXEC) → 126.
   */
  candidates: string[];
  env: string[];
  cwd: string;
  uid: number;
  gid: number;
  additionalGids: number[];
  umask?: number;
  noNewPrivileges: boolean;
  capabilities: CapabilitySets;
  rlimits: Rlimit[];
  /** struct sock_filter[] (8 bytes each) to load with seccomp(SECCOMP_SET_MODE_FILTER), after setuid, last before exec */
  seccomp?: Buffer;
  /** SECCOMP_FILTER_FLAG_* for the seccomp() call */
  seccompFlags?: number;
  /** stdin is a terminal: setsid() and make it the controlling tty (TIOCSCTTY) */
  terminal: boolean;
  oomScoreAdj?: number;
  /**
   * `--preserve-fds N`: the executor's fds from..from+count-1 (passed with ExecutorOptions.extraFds) become the
   * command's fds 3..3+count-1; the executor closes its own copies once the child runs
   */
  preserveFds?: { from: number; count: number };
}

/**
 * Detached containers (docs/lifecycle-design.md, "The executor as a monitor"): the executor stays as the
 * container's monitor. It reports `pid` on fd 4, closes fd 4 and lives on in its own session (stdio /dev/null)
 * until the init ends, then writes `exitFile` and starts `exitCommand`.
 */
export interface MonitorPlan {
  /** absolute; the container's output in k8s-file format (appended to when it exists) */
  logPath: string;
  /** rotate `logPath` to `<logPath>.1` before a record would take it past this many bytes; 0 = unlimited */
  logMaxSize: number;
  /** absolute path of the attach socket to serve (a stale socket there is replaced) */
  attachSocket?: string;
  /** absolute; written (temp + rename) when the init ends: {"ExitCode":N,"Signal":S,"FinishedAt":"..."} */
  exitFile: string;
  /** run after the exit file is written: fork + setsid + exec (PATH lookup), stdio /dev/null, not waited for */
  exitCommand?: string[];
  /** run every `intervalMs` while the container runs (never two at once): the healthcheck, decided in TS */
  healthCommand?: { intervalMs: number; argv: string[] };
  /** memory.events (v2) or memory.oom_control (v1): its `oom_kill` count goes into the exit file as OOMKills */
  oomFile?: string;
  /**
   * the store's event log (absolute): `start` just before the executor reports `pid` (so a container that ends at
   * once still has its start before its die: one process writes both), and after the exit file `die` (and `oom`
   * first when the oomFile counted a kill); each one O_APPEND write of a line rendered here, in which the
   * executor only replaces the bytes \x01 (exit code), \x02 (seconds) and \x03 (nanoseconds) (events/line.ts)
   */
  events?: { logPath: string; start: string; die: string; oom: string };
  /** `-i`: the container's stdin is a pipe (or the pty) fed by attach clients; else /dev/null */
  keepStdin: boolean;
  /**
   * with keepStdin: the container's stdin is closed once an attach client ends its input or hangs up (docker's
   * StdinOnce); with a pty the master stays open for output and input simply stops being forwarded
   */
  stdinOnce?: boolean;
  /**
   * `-t`: the executor's fd number holding a pty master (>= 5; passed with ExecutorOptions.extraFds, where
   * extraFds[i] becomes fd 5 + i). The executor opens the slave (TIOCGPTPEER) as the container's stdin, stdout and
   * stderr, and reads the master; `process.terminal` should be true.
   */
  ptyMasterFd?: number;
  /** the monitor's time bounds; startMonitor fills in MONITOR_TIMING (monitor.ts) when absent, the encoder needs them */
  timing?: MonitorTiming;
}

/** Time bounds of the monitor, decided here and carried out by the executor (which keeps no numbers of its own). */
export interface MonitorTiming {
  /** after the init ended, copy the remaining output for at most this long (a leftover writer may hold the pipes) */
  drainMs: number;
  /** ... and stop earlier once the output has been quiet this long */
  drainIdleMs: number;
  /** an attach client that refuses output this long (from its first refusal) is dropped, so it cannot stall the log */
  clientStallMs: number;
}

/**
 * Foreground `run`/`exec` without -t: no descriptor of the caller enters the container. The executor makes pipes
 * for the container's 0-2 and, outside the container, copies its own 0-2 (the caller's) to and from them
 * (splice(2)); stdin EOF closes the container's stdin, a closed caller stdout (EPIPE) closes that pipe.
 */
export interface RelayPlan {
  /** `-i`: copy the caller's stdin to the container's; else the container's stdin is /dev/null */
  stdin: boolean;
  /** one pipe for the container's stdout and stderr (the caller's are the same file: keeps their order) */
  merge: boolean;
  /** after the init ended, copy remaining output for at most this long (a leftover process may hold the pipes) */
  drainMs: number;
  /** the container's output is also written to its k8s-file log (run, not exec), rotated past `maxSize` bytes (0: never) */
  log?: { path: string; maxSize: number };
}

/** a namespace of a running process that a join plan enters (/proc/<pid>/ns/<name>) */
export type JoinNamespace = 'user' | 'mnt' | 'pid' | 'uts' | 'ipc' | 'net' | 'cgroup';

/** exec: enter the namespaces of a running container's init instead of creating new ones (cloneFlags must be 0) */
export interface JoinPlan {
  /** host pid whose namespaces are joined */
  pid: number;
  /** entered in the canonical order user, ipc, uts, net, pid, cgroup, mnt (the encoder sorts; user first, mnt last) */
  namespaces: JoinNamespace[];
}

export interface ExecPlan {
  /** CLONE_NEW* flags for the container's init */
  cloneFlags: number;
  /** present when cloneFlags has CLONE_NEWUSER */
  idMaps?: IdMapPlan;
  steps: PlanStep[];
  process: PlanProcess;
  /** --init: the executor itself is pid 1 (a reaper that forwards signals); the command runs as its child */
  init: boolean;
  /** write the container init's host pid here once it runs (for lifecycle commands later) */
  pidFile?: string;
  /**
   * cgroup.procs files (one per v1 hierarchy, one on v2): the executor opens them first (host paths, before any
   * setns) and writes the child's pid into each before releasing it, so the command never runs outside its cgroup.
   * With CLONE_NEWCGROUP the child unshares its cgroup namespace after that move.
   */
  cgroupProcs?: string[];
  /**
   * v1: each hierarchy's `tasks` file; the released child writes "0" (itself) into each before anything else. A
   * single thread moving itself skips the kernel's global threadgroup lock (and its ~17 ms RCU grace period).
   */
  cgroupTasks?: string[];
  /**
   * v2: the cgroup directory to clone the child straight into (clone3 CLONE_INTO_CGROUP: no migration, so no
   * RCU grace period, ~17 ms here); `cgroupProcs` is then only the fallback for kernels without clone3
   */
  cgroupDir?: string;
  /** v2 (with cgroupDir): an eBPF device filter (struct bpf_insn[]) the executor attaches to the cgroup first */
  deviceFilter?: Buffer;
  /** published host ports, bound before the clone (a port in use fails the start) and held for the container's life */
  ports?: PortReservation[];
  /** veth pairs into the child's new network namespace (cloneFlags has CLONE_NEWNET) */
  veths?: VethPlan[];
  /** rootless user networks: the network namespace the veths' host ends (and their bridges) live in */
  vethNetns?: string;
  /**
   * on user networks: the container's resolver (docker's 127.0.0.11), forked by the executor into the child's
   * network namespace after the veths: names from `hosts` (hosts-format files, re-read when they change), the rest
   * forwarded to `upstream` (host:port, reached from the host's namespace); it ends with the init
   */
  dns?: { listen: string; upstream: string[]; hosts: string[]; search?: string };
  /**
   * rootless networking: a helper program (pasta, slirp4netns) the executor starts after the clone, `{pid}` in argv
   * being the child's pid, `{netns}` a path to its network namespace (an inherited descriptor) and `{readyfd}` the
   * FIFO's number as the helper's fd; ready when it writes into the FIFO `ready` (the executor makes it), output into `log`; it dies
   * with the executor. Not with `ports` (the helper binds the published ports itself).
   */
  helper?: { argv: string[]; ready: string; log: string; timeoutMs: number };
  /** --network container:X: the child joins this network namespace (absolute path, no CLONE_NEWNET) */
  netns?: string;
  /** detached: the executor becomes the container's monitor (not with `join`) */
  monitor?: MonitorPlan;
  /** foreground without a tty: the container's stdio are pipes relayed by the executor (not with `monitor`) */
  relay?: RelayPlan;
  /** exec into a running container: steps must be empty or only chdir/write, cloneFlags 0, no idMaps */
  join?: JoinPlan;
  /**
   * Hold the container's mounts instead of running its command (cp of a stopped container): the init runs every
   * step (namespaces, rootfs, volumes, pivot_root), then the executor reports `pid` and the init blocks until its
   * stdin reaches EOF and exits 0 (no exec, no privilege drop: it runs nothing). Not with `monitor` or `join`.
   */
  hold?: boolean;
}
