/**
 * Encodes an ExecPlan for the executor (native/tsdock-exec.c; native/plan.c reads it from fd 3 to EOF).
 *
 * Wire format (version 1): a sequence of netstrings, `<len>:<bytes>,` with len the decimal byte count; bytes may
 * be binary. The C parser turns each trailing ',' into a NUL in place, so every field is a C string (strings must
 * not contain NUL; the encoder refuses them). Fields form records: a keyword, then a fixed number of fields.
 *
 *   tsdock-plan 1                        always first: magic and format version
 *   clone <flags>                        CLONE_NEW* bits only (anything else is rejected)
 *   init <0|1>
 *   hold 1                               optional: set up the mounts, report the pid, wait for stdin's EOF, exit
 *   pidfile <path>                       optional
 *   setgroups <allow|deny>               idMaps kind "write": setgroups, then one record per mapping line
 *   uidmap <containerId> <hostId> <size>
 *   gidmap <containerId> <hostId> <size>
 *   uidcmd <argc> <arg>...               idMaps kind "commands" ("{pid}" arguments become the child's pid)
 *   gidcmd <argc> <arg>...
 *   step <op> <npairs> (<key> <value>)*  one per plan step, in order; keys: source target fstype flags data
 *                                        root create(dir|file) optional(0|1) path mode uid gid major minor name
 *                                        attrs (mount: recursiveAttrs, MOUNT_ATTR_* for mount_setattr AT_RECURSIVE)
 *                                        (`label` stays in TypeScript, for error messages)
 *   arg <s>  candidate <path>  env <K=V> one record per element, in order
 *   cwd <path>  user <uid> <gid>  addgid <gid>...  umask <mode>  nonewprivs <0|1>  terminal <0|1>
 *   caps <bounding> <effective> <permitted> <inheritable> <ambient>
 *   rlimit <resource> <soft> <hard>      one per limit
 *   seccomp <flags> <bytes>              raw struct sock_filter array, 8 bytes per instruction, host byte order
 *   oomscoreadj <n>                      optional
 *   join <pid> <n> <ns>...               exec: namespaces to enter, in order (user first, mnt last); clone 0
 *   cgroupprocs <path>                   one per cgroup.procs file the child's pid goes into before its release
 *   cgrouptasks <path>                   v1: one per tasks file the released child writes itself ("0") into
 *   cgroupdir <path>                     v2: clone3(CLONE_INTO_CGROUP) into it (cgroupprocs the fallback)
 *   devfilter <bytes>                    v2: eBPF device program attached to cgroupdir before the clone
 *   oomfile <path>                       monitor: the file whose oom_kill count goes into the exit file
 *   events <path> <start> <die> <oom>    monitor: the event log, the line appended before `pid`, those when the init ends
 *   monitor <logPath> <logMaxSize> <exitFile> <keepStdin 0|1> <stdinOnce 0|1> <drainMs> <drainIdleMs>
 *           <clientStallMs>              detached: the executor stays as the monitor (timing: MonitorTiming)
 *   attachsock <path>                    these three only with `monitor`
 *   exitcmd <argc> <arg>...
 *   helper <ready> <log> <timeoutMs> <argc> <arg>...   rootless networking (pasta, slirp4netns), after the clone ({pid}, {netns}, {readyfd})
 *   healthcmd <interval-ms> <argc> <arg>...
 *   ptymaster <fd>
 *   relay <stdin 0|1> <merge 0|1> <drainMs>   foreground without a tty: stdio through the executor's pipes
 *   relaylog <logPath> <logMaxSize>           with relay: the output also goes to the k8s-file log (a forked writer)
 *   port <tcp|udp|sctp> <hostIp> <hostPort>   a published port, bound and held by the executor (never listened on)
 *   veth <host> <peer> <mac|''> <bridge> <mtu> a veth pair into the child's new netns, host end on the bridge
 *   vethns <path>                        the veths' host ends are made in this netns (rootless: the user's)
 *   dns <listen> <search|''>  dnsup <addr>  dnshosts <path>   the container's resolver (native/dns.c)
 *   netns <path>                         join this network namespace (container:X) instead of a new one
 *   end                                  always last: a truncated plan is rejected
 *
 * Numbers are decimal; 64-bit masks and limits are unsigned (RLIM_INFINITY = 18446744073709551615).
 */
import type { ExecPlan, PlanStep } from './plan-types.js';

export const PLAN_FORMAT_VERSION = 1;

/**
 * The negative step numbers in `error <step> <errno>` status lines (steps >= 0 index plan.steps). The one list:
 * native/codes.h (the executor's E_* names, uidMap → E_UID_MAP) is generated from it by scripts/gen-native-codes.mjs,
 * which reads one `name: -N,` per line here.
 */
export const ExecStep = {
  exec: -1,
  uidMap: -2,
  gidMap: -3,
  plan: -4,
  internal: -5,
  pidFile: -6,
  userns: -7,
  rlimit: -8,
  oomScoreAdj: -9,
  boundingSet: -10,
  setgroups: -11,
  setgid: -12,
  setuid: -13,
  capabilities: -14,
  noNewPrivileges: -15,
  cwd: -16,
  terminal: -17,
  fds: -18,
  seccomp: -19,
  initFork: -20,
  /** monitor: opening or rotating the log */
  log: -21,
  /** monitor: creating the attach socket */
  attachSocket: -22,
  /** monitor: the container's stdio (pipes, /dev/null, the pty slave) */
  stdio: -23,
  /** join: opening /proc/<pid>/ns/<ns> */
  joinOpen: -24,
  /** join: setns() */
  join: -25,
  /** opening a cgroup.procs file, or writing the child's pid into it */
  cgroup: -26,
  /** the child's unshare(CLONE_NEWCGROUP) after its move into its cgroup */
  cgroupns: -27,
  /** loading or attaching the v2 device filter */
  devfilter: -28,
  /** start-up: copying the executor into a sealed memfd and re-executing from it (native/sealed-exe.h) */
  sealedExe: -29,
  /** binding a published host port (EADDRINUSE: taken) */
  port: -30,
  /** creating a veth pair into the child's network namespace, on its bridge */
  veth: -31,
  /** opening or joining the network namespace of another container (--network container:X) */
  netns: -32,
  /** starting the container's resolver (native/dns.c) in its network namespace */
  dns: -33,
  /** starting the network helper (rootless: pasta or slirp4netns) and waiting until it is ready */
  helper: -34,
} as const;

/** the order namespaces are entered in: user first (it grants the rights for the others), mount last */
export const JOIN_ORDER = ['user', 'ipc', 'uts', 'net', 'pid', 'cgroup', 'mnt'] as const;

/** step ops a join plan may carry (it runs in the container's namespaces, after its setup) */
const JOIN_STEP_OPS = new Set(['chdir', 'write']);

const U64_MAX = (1n << 64n) - 1n;

/** Netstrings into one text, a Buffer made only around binary fields (a Buffer per field cost ~2 ms a plan). */
class Writer {
  private readonly parts: Buffer[] = [];
  private text = '';

  field(value: string | Buffer, what: string): this {
    if (typeof value === 'string') {
      if (value.includes('\0')) throw new RangeError(`plan-encode: ${what} contains a NUL byte`);
      this.text += `${Buffer.byteLength(value, 'utf8')}:${value},`;
    } else {
      this.flush();
      this.parts.push(Buffer.from(`${value.length}:`, 'latin1'), value, Buffer.from(',', 'latin1'));
    }
    return this;
  }

  private flush(): void {
    if (this.text) this.parts.push(Buffer.from(this.text, 'utf8'));
    this.text = '';
  }

  int(value: number, what: string, min = -(2 ** 53), max = 2 ** 53): this {
    if (!Number.isSafeInteger(value) || value < min || value > max) throw new RangeError(`plan-encode: ${what} is not an integer in [${min}, ${max}]: ${value}`);
    return this.field(String(value), what);
  }

  u64(value: bigint, what: string): this {
    if (typeof value !== 'bigint' || value < 0n || value > U64_MAX) throw new RangeError(`plan-encode: ${what} is not an unsigned 64-bit value: ${String(value)}`);
    return this.field(value.toString(10), what);
  }

  record(keyword: string, ...fields: Array<(w: Writer) => void>): this {
    this.field(keyword, 'keyword');
    for (const f of fields) f(this);
    return this;
  }

  done(): Buffer {
    this.flush();
    return Buffer.concat(this.parts);
  }
}

const ID_MAX = 0xffffffff - 1;

function stepPairs(step: PlanStep): Array<[string, string | number]> {
  switch (step.op) {
    case 'mount': {
      const pairs: Array<[string, string | number]> = [
        ['source', step.source],
        ['target', step.target],
        ['fstype', step.fstype],
        ['flags', step.flags],
        ['data', step.data],
      ];
      if (step.root !== undefined) pairs.push(['root', step.root]);
      if (step.create !== undefined) pairs.push(['create', step.create]);
      if (step.optional) pairs.push(['optional', 1]);
      if (step.recursiveAttrs) pairs.push(['attrs', step.recursiveAttrs]);
      return pairs;
    }
    case 'mkdir': {
      const pairs: Array<[string, string | number]> = [
        ['path', step.path],
        ['mode', step.mode],
      ];
      if (step.root !== undefined) pairs.push(['root', step.root]);
      if (step.uid !== undefined) pairs.push(['uid', step.uid]);
      if (step.gid !== undefined) pairs.push(['gid', step.gid]);
      return pairs;
    }
    case 'symlink':
      return [
        ['target', step.target],
        ['path', step.path],
      ];
    case 'mknod':
      return [
        ['path', step.path],
        ['mode', step.mode],
        ['major', step.major],
        ['minor', step.minor],
        ['uid', step.uid],
        ['gid', step.gid],
      ];
    case 'chdir':
    case 'mask':
    case 'readonly':
      return [['path', step.path]];
    case 'pivot_root':
      return [['root', step.root]];
    case 'sethostname':
    case 'setdomainname':
      return [['name', step.name]];
    case 'write':
      return [
        ['path', step.path],
        ['data', step.data],
      ];
    case 'propagation':
      return [
        ['path', step.path],
        ['flags', step.flags],
      ];
    case 'netup':
      return [['name', step.name]];
    case 'netaddr':
      return [
        ['name', step.name],
        ['path', step.address],
        ['mode', step.prefix],
      ];
    case 'netroute':
      return [['path', step.gateway]];
    default:
      throw new RangeError(`plan-encode: unknown step op ${(step as { op: unknown }).op as string}`);
  }
}

const UNSIGNED_KEYS = new Set(['flags', 'mode', 'major', 'minor']);

/** The plan as the bytes native/tsdock-exec reads on fd 3. Throws RangeError on values C cannot carry. */
/** the executor opens the log, exit file and socket paths as given: they must not depend on its cwd */
function absolutePath(v: string, what: string): string {
  if (!v.startsWith('/')) throw new RangeError(`plan-encode: ${what} must be an absolute path: ${v}`);
  return v;
}

export function encodePlan(plan: ExecPlan): Buffer {
  const w = new Writer();
  w.record('tsdock-plan', (x) => x.field(String(PLAN_FORMAT_VERSION), 'version'));
  w.record('clone', (x) => x.int(plan.cloneFlags, 'cloneFlags', 0, 0xffffffff));
  w.record('init', (x) => x.int(plan.init ? 1 : 0, 'init'));
  if (plan.hold) {
    if (plan.monitor || plan.join) throw new RangeError('plan-encode: hold cannot be combined with monitor or join');
    w.record('hold', (x) => x.int(1, 'hold'));
  }
  if (plan.pidFile !== undefined) w.record('pidfile', (x) => x.field(plan.pidFile!, 'pidFile'));
  if ((plan.cgroupProcs?.length ?? 0) > 16) throw new RangeError('plan-encode: more than 16 cgroupProcs files');
  for (const f of plan.cgroupProcs ?? []) w.record('cgroupprocs', (x) => x.field(absolutePath(f, 'cgroupProcs'), 'cgroupProcs'));
  if ((plan.cgroupTasks?.length ?? 0) > 16) throw new RangeError('plan-encode: more than 16 cgroupTasks files');
  for (const f of plan.cgroupTasks ?? []) w.record('cgrouptasks', (x) => x.field(absolutePath(f, 'cgroupTasks'), 'cgroupTasks'));
  if (plan.cgroupDir !== undefined) w.record('cgroupdir', (x) => x.field(absolutePath(plan.cgroupDir!, 'cgroupDir'), 'cgroupDir'));
  if (plan.deviceFilter !== undefined) {
    if (plan.cgroupDir === undefined || plan.deviceFilter.length === 0 || plan.deviceFilter.length % 8) throw new RangeError('plan-encode: deviceFilter needs cgroupDir and whole bpf_insn records');
    w.record('devfilter', (x) => x.field(plan.deviceFilter!, 'deviceFilter'));
  }

  const maps = plan.idMaps;
  if (maps?.kind === 'write') {
    w.record('setgroups', (x) => x.field(maps.setgroups, 'setgroups'));
    for (const [kw, list] of [
      ['uidmap', maps.uidMap],
      ['gidmap', maps.gidMap],
    ] as const) {
      for (const m of list)
        w.record(
          kw,
          (x) => x.int(m.containerId, `${kw} containerId`, 0, ID_MAX),
          (x) => x.int(m.hostId, `${kw} hostId`, 0, ID_MAX),
          (x) => x.int(m.size, `${kw} size`, 1, ID_MAX + 1),
        );
    }
  } else if (maps?.kind === 'commands') {
    for (const [kw, argv] of [
      ['uidcmd', maps.uidCommand],
      ['gidcmd', maps.gidCommand],
    ] as const) {
      if (argv.length === 0) throw new RangeError(`plan-encode: ${kw} is empty`);
      w.record(kw, (x) => x.int(argv.length, `${kw} argc`));
      for (const a of argv) w.field(a, `${kw} argument`);
    }
  }

  if ((plan.ports?.length ?? 0) > 256) throw new RangeError('plan-encode: more than 256 published ports');
  for (const p of plan.ports ?? [])
    w.record(
      'port',
      (x) => x.field(p.protocol, 'port protocol'),
      (x) => x.field(p.hostIp, 'port host ip'),
      (x) => x.int(p.hostPort, 'host port', 1, 65535),
    );
  if ((plan.veths?.length ?? 0) > 16) throw new RangeError('plan-encode: more than 16 veth pairs');
  if (plan.veths?.length && !(plan.cloneFlags & 0x40000000)) throw new RangeError('plan-encode: veths need a new network namespace');
  for (const v of plan.veths ?? []) {
    for (const n of [v.host, v.peer, v.bridge]) if (!/^[A-Za-z0-9_.-]{1,15}$/.test(n)) throw new RangeError(`plan-encode: bad interface name ${JSON.stringify(n)}`);
    if (v.mac && !/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/i.test(v.mac)) throw new RangeError(`plan-encode: bad MAC address ${v.mac}`);
    w.record(
      'veth',
      (x) => x.field(v.host, 'veth host'),
      (x) => x.field(v.peer, 'veth peer'),
      (x) => x.field(v.mac, 'veth mac'),
      (x) => x.field(v.bridge, 'veth bridge'),
      (x) => x.int(v.mtu, 'mtu', 0, 65535),
    );
  }
  if (plan.vethNetns !== undefined) {
    if (!plan.veths?.length) throw new RangeError('plan-encode: vethns needs veths');
    w.record('vethns', (x) => x.field(absolutePath(plan.vethNetns!, 'vethns'), 'vethns'));
  }
  if (plan.dns) {
    const d = plan.dns;
    if (!(plan.cloneFlags & 0x40000000)) throw new RangeError('plan-encode: dns needs a new network namespace');
    if (d.upstream.length > 8 || d.hosts.length > 16) throw new RangeError('plan-encode: at most 8 dns upstreams and 16 hosts files');
    w.record('dns', (x) => x.field(d.listen, 'dns listen'), (x) => x.field(d.search ?? '', 'dns search'));
    for (const u of d.upstream) w.record('dnsup', (x) => x.field(u, 'dns upstream'));
    for (const f of d.hosts) w.record('dnshosts', (x) => x.field(absolutePath(f, 'dns hosts'), 'dns hosts'));
  }
  if (plan.helper) {
    const h = plan.helper;
    if (!(plan.cloneFlags & 0x40000000)) throw new RangeError('plan-encode: a network helper needs a new network namespace');
    if (h.argv.length < 1 || h.argv.length > 1024) throw new RangeError('plan-encode: a network helper needs 1 to 1024 arguments');
    w.record(
      'helper',
      (x) => x.field(absolutePath(h.ready, 'helper ready'), 'helper ready'),
      (x) => x.field(absolutePath(h.log, 'helper log'), 'helper log'),
      (x) => x.int(h.timeoutMs, 'helper timeout', 1, 600_000),
      (x) => x.int(h.argv.length, 'helper argc'),
    );
    for (const a of h.argv) w.field(a, 'helper argument');
  }
  if (plan.netns !== undefined) {
    if (plan.cloneFlags & 0x40000000) throw new RangeError('plan-encode: netns cannot be combined with a new network namespace');
    w.record('netns', (x) => x.field(absolutePath(plan.netns!, 'netns'), 'netns'));
  }

  plan.steps.forEach((step, i) => {
    const pairs = stepPairs(step);
    w.record('step', (x) => x.field(step.op, 'op'), (x) => x.int(pairs.length, 'npairs'));
    for (const [k, v] of pairs) {
      w.field(k, 'key');
      const what = `step ${i} (${step.op}) ${k}`;
      if (typeof v === 'string') w.field(v, what);
      else if (UNSIGNED_KEYS.has(k)) w.int(v, what, 0, 0xffffffff);
      else w.int(v, what, -1, ID_MAX);
    }
  });

  const p = plan.process;
  if (p.args.length === 0) throw new RangeError('plan-encode: process.args is empty');
  for (const a of p.args) w.record('arg', (x) => x.field(a, 'argument'));
  for (const c of p.candidates) w.record('candidate', (x) => x.field(c, 'candidate'));
  for (const e of p.env) w.record('env', (x) => x.field(e, 'environment variable'));
  w.record('cwd', (x) => x.field(p.cwd, 'cwd'));
  w.record(
    'user',
    (x) => x.int(p.uid, 'uid', 0, ID_MAX),
    (x) => x.int(p.gid, 'gid', 0, ID_MAX),
  );
  for (const g of p.additionalGids) w.record('addgid', (x) => x.int(g, 'additional gid', 0, ID_MAX));
  if (p.umask !== undefined) w.record('umask', (x) => x.int(p.umask!, 'umask', 0, 0o7777));
  w.record('nonewprivs', (x) => x.int(p.noNewPrivileges ? 1 : 0, 'noNewPrivileges'));
  w.record('terminal', (x) => x.int(p.terminal ? 1 : 0, 'terminal'));
  const caps = p.capabilities;
  w.record(
    'caps',
    (x) => x.u64(caps.bounding, 'bounding capabilities'),
    (x) => x.u64(caps.effective, 'effective capabilities'),
    (x) => x.u64(caps.permitted, 'permitted capabilities'),
    (x) => x.u64(caps.inheritable, 'inheritable capabilities'),
    (x) => x.u64(caps.ambient, 'ambient capabilities'),
  );
  for (const r of p.rlimits)
    w.record(
      'rlimit',
      (x) => x.int(r.resource, 'rlimit resource', 0, 64),
      (x) => x.u64(r.soft, 'rlimit soft'),
      (x) => x.u64(r.hard, 'rlimit hard'),
    );
  if (p.seccomp !== undefined) {
    if (p.seccomp.length === 0 || p.seccomp.length % 8 !== 0 || p.seccomp.length / 8 > 0xffff) throw new RangeError(`plan-encode: seccomp filter must be 1..65535 instructions of 8 bytes, got ${p.seccomp.length} bytes`);
    w.record(
      'seccomp',
      (x) => x.int(p.seccompFlags ?? 0, 'seccompFlags', 0, 0xffffffff),
      (x) => x.field(p.seccomp!, 'seccomp'),
    );
  }
  if (p.preserveFds !== undefined && p.preserveFds.count > 0)
    w.record(
      'preserve',
      (x) => x.int(p.preserveFds!.from, 'preserveFds from', 5, 0xffff),
      (x) => x.int(p.preserveFds!.count, 'preserveFds count', 1, 1024),
    );
  if (p.oomScoreAdj !== undefined) w.record('oomscoreadj', (x) => x.int(p.oomScoreAdj!, 'oomScoreAdj', -1000, 1000));

  if (plan.join) {
    const j = plan.join;
    if (plan.cloneFlags !== 0 || plan.idMaps || plan.monitor) throw new RangeError('plan-encode: a join plan has no clone flags, id maps or monitor');
    const bad = plan.steps.find((s) => !JOIN_STEP_OPS.has(s.op));
    if (bad) throw new RangeError(`plan-encode: a join plan cannot carry a ${bad.op} step`);
    const unknown = j.namespaces.find((n) => !(JOIN_ORDER as readonly string[]).includes(n));
    if (unknown !== undefined) throw new RangeError(`plan-encode: unknown namespace ${String(unknown)}`);
    const ns = JOIN_ORDER.filter((n) => j.namespaces.includes(n));
    if (ns.length === 0) throw new RangeError('plan-encode: a join plan needs at least one namespace');
    w.record(
      'join',
      (x) => x.int(j.pid, 'join pid', 1, 0x7fffffff),
      (x) => x.int(ns.length, 'namespace count'),
    );
    for (const n of ns) w.field(n, 'namespace');
  }

  if (plan.relay) {
    const r = plan.relay;
    if (plan.monitor || p.terminal) throw new RangeError('plan-encode: relay is for a foreground process without a terminal');
    w.record(
      'relay',
      (x) => x.int(r.stdin ? 1 : 0, 'relay stdin'),
      (x) => x.int(r.merge ? 1 : 0, 'relay merge'),
      (x) => x.int(Math.round(r.drainMs), 'relay drainMs', 0),
    );
    if (r.log) {
      if (plan.join) throw new RangeError('plan-encode: an exec is not logged');
      const log = r.log;
      w.record(
        'relaylog',
        (x) => x.field(absolutePath(log.path, 'relay logPath'), 'relay logPath'),
        (x) => x.int(log.maxSize, 'relay logMaxSize', 0),
      );
    }
  }

  if (plan.monitor) {
    const m = plan.monitor;
    const t = m.timing;
    if (!t) throw new RangeError('plan-encode: monitor timing is missing (startMonitor sets MONITOR_TIMING)');
    w.record(
      'monitor',
      (x) => x.field(absolutePath(m.logPath, 'monitor logPath'), 'logPath'),
      (x) => x.int(m.logMaxSize, 'logMaxSize', 0),
      (x) => x.field(absolutePath(m.exitFile, 'monitor exitFile'), 'exitFile'),
      (x) => x.int(m.keepStdin ? 1 : 0, 'keepStdin'),
      (x) => x.int(m.stdinOnce ? 1 : 0, 'stdinOnce'),
      (x) => x.int(Math.round(t.drainMs), 'monitor drainMs', 0),
      (x) => x.int(Math.round(t.drainIdleMs), 'monitor drainIdleMs', 0, 0x7fffffff),
      (x) => x.int(Math.round(t.clientStallMs), 'monitor clientStallMs', 0, 0x7fffffff),
    );
    if (m.attachSocket !== undefined) w.record('attachsock', (x) => x.field(absolutePath(m.attachSocket!, 'monitor attachSocket'), 'attachSocket'));
    if (m.exitCommand !== undefined) {
      if (m.exitCommand.length === 0) throw new RangeError('plan-encode: monitor exitCommand is empty');
      w.record('exitcmd', (x) => x.int(m.exitCommand!.length, 'exitcmd argc'));
      for (const a of m.exitCommand) w.field(a, 'exitcmd argument');
    }
    if (m.healthCommand !== undefined) {
      const h = m.healthCommand;
      if (h.argv.length === 0 || !(h.intervalMs >= 1)) throw new RangeError('plan-encode: monitor healthCommand needs an argv and an interval');
      w.record(
        'healthcmd',
        (x) => x.int(Math.round(h.intervalMs), 'healthcmd interval', 1),
        (x) => x.int(h.argv.length, 'healthcmd argc'),
      );
      for (const a of h.argv) w.field(a, 'healthcmd argument');
    }
    if (m.oomFile !== undefined) w.record('oomfile', (x) => x.field(absolutePath(m.oomFile!, 'monitor oomFile'), 'oomFile'));
    if (m.events !== undefined) {
      const e = m.events;
      w.record('events', (x) => x.field(absolutePath(e.logPath, 'monitor events logPath'), 'events logPath'), (x) => x.field(e.start, 'events start'), (x) => x.field(e.die, 'events die'), (x) => x.field(e.oom, 'events oom'));
    }
    if (m.ptyMasterFd !== undefined) w.record('ptymaster', (x) => x.int(m.ptyMasterFd!, 'ptyMasterFd', 5, 0x7fffffff));
  }
  w.record('end');
  return w.done();
}

/** Splits an encoded plan back into its fields (for tests and debugging). Throws on malformed input. */
export function splitFields(buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const colon = buf.indexOf(0x3a, pos);
    const digits = colon < 0 ? '' : buf.toString('latin1', pos, colon);
    if (!/^\d{1,9}$/.test(digits)) throw new RangeError(`malformed netstring length at byte ${pos}`);
    const len = Number(digits);
    const start = colon + 1;
    if (start + len >= buf.length || buf[start + len] !== 0x2c) throw new RangeError(`malformed netstring at byte ${pos}`);
    out.push(buf.subarray(start, start + len));
    pos = start + len + 1;
  }
  return out;
}
