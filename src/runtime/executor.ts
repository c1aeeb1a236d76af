/**
 * Starts native/build/tsdock-exec for one ExecPlan: the encoded plan goes to its fd 3, its status lines come back
 * on fd 4, the container's stdio is its 0-2.
 *
 * Status lines (one event each, in this order):
 *   pid <hostpid>          the container's init has exec'd (--init: the reaper is running the command)
 *   error <step> <errno>   setup failed at plan step <step> (>= 0), or at an executor phase (< 0, see ExecStep);
 *                          step -1 is the exec itself. The executor then exits 125, or 126/127 for exec failures.
 *   exit <code>            the container's init exited with <code>
 *   signal <n>             the container's init was killed by signal <n> (the executor exits 128+n)
 * The executor forwards SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 and SIGWINCH to the container's init;
 * `kill()` signals the executor. If the executor dies, the init gets SIGKILL (its parent-death signal).
 *
 * With `plan.monitor` the executor reports `pid`, closes fd 4 and stays as the container's monitor (monitor.ts);
 * with `plan.join` it enters a running container's namespaces instead of creating new ones (exec-join.ts).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import util from 'node:util';
import { TsdockError } from '../errors.js';
import { errnoName } from '../sys/errors.js';
import { memfdCreate } from '../sys/fs.js';
import { nativeBuildPath } from '../sys/package-root.js';
import { ExecStep, encodePlan } from './plan-encode.js';
import { spawnExecutor, type SpawnedExecutor } from './executor-spawn.js';
import type { ExecPlan, PlanStep } from './plan-types.js';

export type StdioSpec = number | 'inherit' | 'pipe' | 'ignore';

export interface ExecutorOptions {
  /** the container's stdin, stdout, stderr */
  stdio: [StdioSpec, StdioSpec, StdioSpec];
  /** the executor's own environment (it needs PATH for newuidmap/newgidmap); default process.env */
  env?: NodeJS.ProcessEnv;
  /** aborting kills the executor with SIGKILL, which takes the container's init down with it */
  signal?: AbortSignal;
  /** run the executor as this uid/gid (tests; a rootless tsdock is already in its user namespace) */
  uid?: number;
  gid?: number;
  /** override the executor binary (default: executorPath()) */
  executable?: string;
  /**
   * run the executor in its own session/process group, so a terminal's Ctrl-C reaches only the CLI, which
   * forwards it once (instead of the executor and the CLI both forwarding it)
   */
  detached?: boolean;
  /** more fds for the executor: extraFds[i] becomes its fd 5 + i (e.g. a pty master for MonitorPlan.ptyMasterFd) */
  extraFds?: number[];
  /** the executor keeps its status pipe open after `pid` and outlives this process (`exec -d`): see executor-spawn.ts */
  outlives?: boolean;
}

export interface ExecutorExit {
  /** docker's exit code: the container's, 128+n when killed by signal n, 125/126/127 when it could not start */
  exitCode: number;
  signal?: number;
}

export interface ExecutorHandle {
  /** pid of the executor process (-1 if it could not be spawned) */
  readonly pid: number;
  /** the host pid of the container's init once it runs; rejects with ContainerStartError */
  readonly started: Promise<number>;
  /** never rejects */
  readonly exited: Promise<ExecutorExit>;
  /** the streams for stdio entries given as 'pipe' */
  readonly stdin: Writable | null;
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
  /** signal the executor (it forwards the forwardable ones to the container's init) */
  kill(signal?: NodeJS.Signals | number): boolean;
  /** let Node exit while the executor runs (detached monitors, `exec -d`): unrefs the process and its pipes */
  unref(): void;
}

/** The container could not be started. `code` is docker's exit code for it. */
export class ContainerStartError extends TsdockError {
  readonly step: number;
  readonly errno: number;
  readonly code: 125 | 126 | 127;
  constructor(message: string, step: number, errno: number, code: 125 | 126 | 127) {
    super(message, { exitCode: code });
    this.step = step;
    this.errno = errno;
    this.code = code;
  }
}

export type StatusEvent =
  | { kind: 'pid'; pid: number }
  | { kind: 'error'; step: number; errno: number }
  | { kind: 'exit'; code: number }
  | { kind: 'signal'; signal: number };

/** One status line from fd 4, or undefined for anything unrecognised. */
export function parseStatusLine(line: string): StatusEvent | undefined {
  const m = /^(pid|error|exit|signal) (-?\d+)(?: (-?\d+))?$/.exec(line.trim());
  if (!m) return undefined;
  const a = Number(m[2]);
  switch (m[1]) {
    case 'pid':
      return { kind: 'pid', pid: a };
    case 'error':
      return m[3] === undefined ? undefined : { kind: 'error', step: a, errno: Number(m[3]) };
    case 'exit':
      return { kind: 'exit', code: a };
    default:
      return { kind: 'signal', signal: a };
  }
}

/** native/build/tsdock-exec in the package root. */
export function executorPath(): string {
  return nativeBuildPath('tsdock-exec');
}

const errnoMessages = util.getSystemErrorMap();

function errnoText(errno: number): string {
  const msg = errnoMessages.get(-errno)?.[1];
  return msg ? `${msg} (${errnoName(errno)})` : errnoName(errno);
}

/** "mount proc on /proc in /x/rootfs": what a plan step does, for error messages */
export function describeStep(step: PlanStep): string {
  switch (step.op) {
    case 'mount': {
      const what = step.flags & 4096 /* MS_BIND */ ? `bind ${step.source}` : `${step.fstype || step.source}`;
      return `mount ${what} on ${step.target}${step.root ? ` in ${step.root}` : ''}`;
    }
    case 'mkdir':
      return `mkdir ${step.path}${step.root ? ` in ${step.root}` : ''}`;
    case 'symlink':
      return `symlink ${step.path} -> ${step.target}`;
    case 'mknod':
      return `mknod ${step.path}`;
    case 'chdir':
      return `chdir ${step.path}`;
    case 'pivot_root':
      return `pivot_root ${step.root}`;
    case 'sethostname':
      return `sethostname ${step.name}`;
    case 'setdomainname':
      return `setdomainname ${step.name}`;
    case 'write':
      return `write ${step.path}`;
    case 'mask':
      return `mask ${step.path}`;
    case 'readonly':
      return `remount ${step.path} read-only`;
    case 'propagation':
      return `set mount propagation of ${step.path}`;
    case 'netup':
      return `ip link set ${step.name} up`;
    case 'netaddr':
      return `ip addr add ${step.address}/${step.prefix} dev ${step.name}`;
    case 'netroute':
      return `ip route add default via ${step.gateway}`;
  }
}

/** what the network helper said before it failed (its last lines, without syslog noise) */
function helperOutput(log: string | undefined): string {
  let text = '';
  try {
    text = log ? fs.readFileSync(log, 'utf8') : '';
  } catch {
    return '';
  }
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l && !/to syslog$/.test(l));
  return lines.length ? ` (${lines.slice(-2).join('; ')})` : '';
}

/** The error for `error <step> <errno>`, with docker's wording for exec failures. */
export function startError(plan: ExecPlan, step: number, errno: number): ContainerStartError {
  const p = plan.process;
  if (step === ExecStep.exec) {
    const arg0 = p.args[0] ?? '';
    const notFound = errnoName(errno) === 'ENOENT' || errnoName(errno) === 'ENOTDIR';
    const msg = errnoMessages.get(-errno)?.[1] ?? errnoName(errno);
    if (notFound && !arg0.includes('/')) return new ContainerStartError(`exec: "${arg0}": executable file not found in $PATH`, step, errno, 127);
    if (notFound) return new ContainerStartError(`exec: "${arg0}": stat ${arg0}: ${msg}`, step, errno, 127);
    return new ContainerStartError(`exec: "${arg0}": ${msg}`, step, errno, 126);
  }
  let what: string;
  if (step >= 0) {
    const s = plan.steps[step];
    what = s ? `${('label' in s && s.label) || describeStep(s)} (step ${step})` : `step ${step}`;
  } else {
    const cmd = (argv: string[] | undefined) => (argv ? ` (${path.basename(argv[0] ?? '')})` : '');
    const maps = plan.idMaps?.kind === 'commands' ? plan.idMaps : undefined;
    const names: Record<number, string> = {
      [ExecStep.uidMap]: `writing the uid map${cmd(maps?.uidCommand)}`,
      [ExecStep.gidMap]: `writing the gid map${cmd(maps?.gidCommand)}`,
      [ExecStep.plan]: 'the executor rejected the plan (is native/build/tsdock-exec out of date?)',
      [ExecStep.internal]: 'starting the container process',
      [ExecStep.sealedExe]: 're-executing the executor from a sealed memfd copy (memfd_create, fexecve)',
      [ExecStep.pidFile]: `writing the pid file ${plan.pidFile ?? ''}`,
      [ExecStep.userns]: 'becoming root in the user namespace',
      [ExecStep.rlimit]: 'setting resource limits',
      [ExecStep.oomScoreAdj]: `setting oom_score_adj to ${p.oomScoreAdj}`,
      [ExecStep.boundingSet]: 'dropping capabilities from the bounding set',
      [ExecStep.setgroups]: `setgroups ${JSON.stringify(p.additionalGids)}`,
      [ExecStep.setgid]: `setresgid ${p.gid}`,
      [ExecStep.setuid]: `setresuid ${p.uid}`,
      [ExecStep.capabilities]: 'setting capabilities',
      [ExecStep.noNewPrivileges]: 'setting no_new_privs',
      [ExecStep.cwd]: `chdir to cwd ("${p.cwd}") set in config.json`,
      [ExecStep.terminal]: 'making the terminal the controlling terminal',
      [ExecStep.fds]: 'closing inherited file descriptors',
      [ExecStep.seccomp]: 'loading the seccomp filter',
      [ExecStep.initFork]: 'starting the command under --init',
      [ExecStep.log]: `opening the log ${plan.monitor?.logPath ?? ''}`,
      [ExecStep.attachSocket]: `creating the attach socket ${plan.monitor?.attachSocket ?? ''}`,
      [ExecStep.stdio]: "setting up the container's stdio",
      [ExecStep.joinOpen]: `opening the namespaces of pid ${plan.join?.pid ?? ''} (${plan.join?.namespaces.join(', ') ?? ''})`,
      [ExecStep.join]: `joining the namespaces of pid ${plan.join?.pid ?? ''} (${plan.join?.namespaces.join(', ') ?? ''})`,
      [ExecStep.cgroup]: `moving the process into its cgroup (${path.dirname(plan.cgroupDir ? `${plan.cgroupDir}/x` : (plan.cgroupTasks ?? plan.cgroupProcs ?? ['?'])[0]!)})`,
      [ExecStep.cgroupns]: 'creating the cgroup namespace',
      [ExecStep.devfilter]: `attaching the device filter to ${plan.cgroupDir ?? 'the cgroup'}`,
      [ExecStep.port]: `publishing ports (${(plan.ports ?? []).map((x) => `${x.hostIp}:${x.hostPort}/${x.protocol}`).join(', ')})`,
      [ExecStep.veth]: `connecting to ${(plan.veths ?? []).map((v) => v.bridge).join(', ')} (veth pair)`,
      [ExecStep.netns]: `joining the network namespace ${plan.netns ?? ''}`,
      [ExecStep.dns]: `starting the container's resolver on ${plan.dns?.listen ?? ''}`,
      [ExecStep.helper]: `starting ${path.basename(plan.helper?.argv[0] ?? 'the network helper')}${helperOutput(plan.helper?.log)}`,
    };
    what = names[step] ?? `executor phase ${step}`;
  }
  return new ContainerStartError(`error starting container: ${what}: ${errnoText(errno)}`, step, errno, 125);
}

/** Spawns the executor for `plan`. Throws at once when the executor binary is missing. */
export function startExecutor(plan: ExecPlan, opts: ExecutorOptions): ExecutorHandle {
  const encoded = encodePlan(plan);
  const exe = opts.executable ?? executorPath();
  if (!fs.existsSync(exe)) throw new TsdockError(`native executor not built: run npm run build (missing ${exe})`);

  // the plan goes in on fd 3 as an in-memory file written before the spawn (its offset stays at 0 with a
  // positioned write): no stream to set up, and no pipe capacity to mind
  const planFd = memfdCreate('tsdock-plan');
  let child: SpawnedExecutor;
  try {
    fs.writeSync(planFd, encoded, 0, encoded.length, 0);
    child = spawnExecutor(exe, planFd, opts);
  } finally {
    fs.closeSync(planFd);
  }

  let resolveStarted!: (pid: number) => void;
  let rejectStarted!: (err: Error) => void;
  const started = new Promise<number>((res, rej) => {
    resolveStarted = res;
    rejectStarted = rej;
  });
  started.catch(() => {}); // the caller may only look at `exited`
  let settled = false;
  const settle = (fn: () => void) => {
    if (!settled) {
      settled = true;
      fn();
    }
  };

  let last: StatusEvent | undefined;
  let startErr: ContainerStartError | undefined;
  const onEvent = (ev: StatusEvent) => {
    if (ev.kind === 'pid') settle(() => resolveStarted(ev.pid));
    else if (ev.kind === 'error') {
      startErr = startError(plan, ev.step, ev.errno);
      settle(() => rejectStarted(startErr!));
    } else last = ev;
  };

  let buf = '';
  const statusDone = child.readStatus((chunk) => {
    buf += chunk;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const ev = parseStatusLine(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
      if (ev) onEvent(ev);
    }
  });

  const exited = (async (): Promise<ExecutorExit> => {
    const r = await child.done;
    if (!r.error) await statusDone;
    if (r.error) {
      settle(() => rejectStarted(new ContainerStartError(`starting the executor ${exe}: ${r.error!.message}`, ExecStep.internal, 0, 125)));
      return { exitCode: 125 };
    }
    if (startErr) return { exitCode: startErr.code };
    const sigNum = typeof r.signal === 'number' ? r.signal : r.signal ? os.constants.signals[r.signal] : undefined;
    settle(() =>
      rejectStarted(new ContainerStartError(`the executor exited before the container started (${r.signal ? `signal ${r.signal}` : `exit code ${r.code}`})`, ExecStep.internal, 0, 125)),
    );
    if (last?.kind === 'exit') return { exitCode: last.code };
    if (last?.kind === 'signal') return { exitCode: 128 + last.signal, signal: last.signal };
    if (sigNum !== undefined) return { exitCode: 128 + sigNum, signal: sigNum };
    return { exitCode: r.code ?? 125 };
  })();

  if (opts.signal) {
    const onAbort = () => child.kill('SIGKILL');
    if (opts.signal.aborted) onAbort();
    else {
      opts.signal.addEventListener('abort', onAbort, { once: true });
      void exited.then(() => opts.signal!.removeEventListener('abort', onAbort));
    }
  }

  return {
    pid: child.pid,
    started,
    exited,
    stdin: child.stdin,
    stdout: child.stdout,
    stderr: child.stderr,
    kill: (signal: NodeJS.Signals | number = 'SIGTERM') => child.kill(signal),
    unref: () => child.unref(),
  };
}
