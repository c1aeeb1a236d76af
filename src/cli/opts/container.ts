/**
 * run/create flags → the typed create request, in one place, as docker's CLI does it
 * (cli/command/container/opts.go parse()): sizes to bytes, --cpus to NanoCpus, durations to nanoseconds, the
 * env files read and `-e K` resolved from the caller's environment, a seccomp profile file read into the request,
 * `-v` split into Binds and anonymous Volumes, `--mount` into typed Mounts. dockerd's checks of the values are the
 * domain's; the errors here are the flags' own (pflag's and docker's CLI's words).
 */
import fs from 'node:fs';
import path from 'node:path';
import { UsageError } from '../../errors.js';
import type { CreateOptions, CreateRequest, EndpointSettings, HostConfig, Resources, UpdateConfig } from '../../api/create.js';
import type { AttachStream } from '../../api/run.js';
import type { ContainerFlagValues, ResourceFlagValues } from './flags.js';
import { requestEnv } from './env.js';
import { mountFlag } from './mount.js';
import { bytesFlag, durationFlag, intFlag, keyValues, nanoCpusFlag, restartFlag, swapFlag, ulimitFlag } from './values.js';
import { addHostFlag, exposeFlags, ip6Flag, ipFlag, macFlag, portBindings } from './ports.js';

export interface Caller {
  cwd: string;
  env: NodeJS.ProcessEnv;
}

/** The resource flags as docker's Resources (only the given ones are set). */
export function resourceFields(f: ResourceFlagValues): UpdateConfig {
  const r: UpdateConfig = {};
  if (f.memory !== undefined) r.Memory = bytesFlag(f.memory, '--memory');
  if (f.memorySwap !== undefined) r.MemorySwap = swapFlag(f.memorySwap, '--memory-swap');
  if (f.memoryReservation !== undefined) r.MemoryReservation = bytesFlag(f.memoryReservation, '--memory-reservation');
  if (f.cpus !== undefined) r.NanoCpus = nanoCpusFlag(f.cpus, '--cpus');
  if (f.cpuShares !== undefined) r.CpuShares = intFlag(f.cpuShares, '--cpu-shares');
  if (f.cpuPeriod !== undefined) r.CpuPeriod = intFlag(f.cpuPeriod, '--cpu-period');
  if (f.cpuQuota !== undefined) r.CpuQuota = intFlag(f.cpuQuota, '--cpu-quota');
  if (f.cpusetCpus !== undefined) r.CpusetCpus = f.cpusetCpus;
  if (f.cpusetMems !== undefined) r.CpusetMems = f.cpusetMems;
  if (f.pidsLimit !== undefined) r.PidsLimit = intFlag(f.pidsLimit, '--pids-limit');
  if (f.blkioWeight !== undefined) r.BlkioWeight = intFlag(f.blkioWeight, '--blkio-weight');
  return r;
}

/** Go's json.Compact: whitespace outside strings removed, the text otherwise kept (no number is re-read). */
function compactJson(text: string, file: string): string {
  try {
    JSON.parse(text);
  } catch (err) {
    throw new UsageError(`compacting json for seccomp profile (${file}) failed: ${(err as Error).message}`);
  }
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (inString) {
      out += ch;
      if (ch === '\\') out += text[++i] ?? '';
      else if (ch === '"') inString = false;
    } else if (ch === '"') {
      inString = true;
      out += ch;
    } else if (!/\s/.test(ch)) {
      out += ch;
    }
  }
  return out;
}

/** docker CLI parseSecurityOpts: a seccomp profile file is read (relative to the caller) and sent as its content */
export function securityOpts(opts: readonly string[], cwd: string): string[] {
  return opts.map((opt) => {
    const m = /^seccomp[=:](.+)$/.exec(opt);
    if (!m || m[1] === 'unconfined' || m[1] === 'builtin' || m[1]!.trimStart().startsWith('{')) return opt;
    const file = m[1]!;
    let content: string;
    try {
      content = fs.readFileSync(path.resolve(cwd, file), 'utf8');
    } catch (err) {
      throw new UsageError(`opening seccomp profile (${file}) failed: ${(err as Error).message}`);
    }
    return `seccomp=${compactJson(content, file)}`;
  });
}

/** docker CLI: `-v SRC:DST` with a relative SRC starting with "." is the caller's directory's; `-v /DST` is an anonymous volume */
export function volumeFlags(list: readonly string[], cwd: string): { binds: string[]; anonymous: Record<string, Record<string, never>> } {
  const binds: string[] = [];
  const anonymous: Record<string, Record<string, never>> = {};
  for (const v of list) {
    const colon = v.indexOf(':');
    if (colon < 0 && v.startsWith('/')) {
      anonymous[v] = {};
      continue;
    }
    const src = colon < 0 ? '' : v.slice(0, colon);
    binds.push(src.startsWith('.') ? `${path.resolve(cwd, src)}${v.slice(colon)}` : v);
  }
  return { binds, anonymous };
}

function healthcheck(f: ContainerFlagValues): CreateRequest['Healthcheck'] {
  const timing = f.healthInterval !== undefined || f.healthTimeout !== undefined || f.healthStartPeriod !== undefined || f.healthRetries !== undefined;
  if (f.healthcheck === false) {
    if (f.healthCmd !== undefined || timing) throw new UsageError('--no-healthcheck conflicts with --health-* options');
    return { Test: ['NONE'] };
  }
  if (f.healthCmd === undefined && !timing) return undefined;
  const ns = (v: string | undefined, flag: string) => {
    if (v === undefined) return undefined;
    const n = durationFlag(v, flag);
    if (n < 0) throw new UsageError(`${flag} cannot be negative`);
    return n;
  };
  const retries = f.healthRetries === undefined ? undefined : intFlag(f.healthRetries, '--health-retries');
  if (retries !== undefined && retries < 0) throw new UsageError('--health-retries cannot be negative');
  const h: NonNullable<CreateRequest['Healthcheck']> = {};
  if (f.healthCmd !== undefined) h.Test = ['CMD-SHELL', f.healthCmd];
  const interval = ns(f.healthInterval, '--health-interval');
  const timeout = ns(f.healthTimeout, '--health-timeout');
  const start = ns(f.healthStartPeriod, '--health-start-period');
  if (interval !== undefined) h.Interval = interval;
  if (timeout !== undefined) h.Timeout = timeout;
  if (start !== undefined) h.StartPeriod = start;
  if (retries !== undefined) h.Retries = retries;
  return h;
}

/** `--ip`, `--ip6`, `--mac-address`, `--network-alias` belong to the endpoint on the --network given (docker) */
function endpointFlags(f: ContainerFlagValues): Record<string, EndpointSettings> {
  const mode = f.net ?? f.network ?? 'default';
  const ep: EndpointSettings = {
    ...(f.ip !== undefined || f.ip6 !== undefined ? { IPAMConfig: { ...(f.ip !== undefined ? { IPv4Address: ipFlag(f.ip) } : {}), ...(f.ip6 !== undefined ? { IPv6Address: ip6Flag(f.ip6) } : {}) } } : {}),
    ...(f.networkAlias.length ? { Aliases: f.networkAlias } : {}),
    ...(f.macAddress !== undefined ? { MacAddress: macFlag(f.macAddress) } : {}),
  };
  return Object.keys(ep).length ? { [mode]: ep } : {};
}

/** run's and create's flags and arguments → the create request and what goes beside it. */
export function createOptions(image: string, command: string[], f: ContainerFlagValues, caller: Caller): CreateOptions & { attach?: AttachStream[] } {
  const attach = attachStreams(f.attach ?? [], f.detach);
  const attached = (s: AttachStream) => (attach ? attach.includes(s) : !f.detach && (s !== 'stdin' || Boolean(f.interactive)));
  const { binds, anonymous } = volumeFlags(f.volume, caller.cwd);
  const resources: Resources = { ...resourceFields(f) };
  if (f.memorySwappiness !== undefined) resources.MemorySwappiness = intFlag(f.memorySwappiness, '--memory-swappiness');
  if (f.ulimit.length) resources.Ulimits = f.ulimit.map(ulimitFlag);
  if (f.cgroupParent !== undefined) resources.CgroupParent = f.cgroupParent;
  const published = portBindings(f.publish);
  const exposed = exposeFlags(f.expose, published);
  const host: HostConfig = {
    ...resources,
    ...(binds.length ? { Binds: binds } : {}),
    NetworkMode: f.net ?? f.network ?? 'default',
    ...(published ? { PortBindings: published } : {}),
    ...(f.publishAll ? { PublishAllPorts: true } : {}),
    ...(f.addHost.length ? { ExtraHosts: f.addHost.map(addHostFlag) } : {}),
    ...(f.dns.length ? { Dns: f.dns.map(ipFlag) } : {}),
    ...(f.dnsSearch.length ? { DnsSearch: f.dnsSearch } : {}),
    ...(f.dnsOption.length ? { DnsOptions: f.dnsOption } : {}),
    ...(f.restart !== undefined ? { RestartPolicy: restartFlag(f.restart) } : {}),
    AutoRemove: Boolean(f.rm),
    ...(f.capAdd.length ? { CapAdd: f.capAdd } : {}),
    ...(f.capDrop.length ? { CapDrop: f.capDrop } : {}),
    ...(f.oomScoreAdj !== undefined ? { OomScoreAdj: intFlag(f.oomScoreAdj, '--oom-score-adj') } : {}),
    Privileged: Boolean(f.privileged),
    ReadonlyRootfs: Boolean(f.readOnly),
    ...(f.securityOpt.length ? { SecurityOpt: securityOpts(f.securityOpt, caller.cwd) } : {}),
    ...(f.tmpfs.length ? { Tmpfs: Object.fromEntries(f.tmpfs.map((t) => (t.includes(':') ? [t.slice(0, t.indexOf(':')), t.slice(t.indexOf(':') + 1)] : [t, '']))) } : {}),
    ...(f.mount.length ? { Mounts: f.mount.map((m) => mountFlag(m, caller.cwd)) } : {}),
    ...(f.init ? { Init: true } : {}),
    LogConfig: { Type: 'k8s-file', Config: keyValues(f.logOpt) },
  };
  const health = healthcheck(f);
  const request: CreateRequest = {
    Image: image,
    ...(f.hostname !== undefined ? { Hostname: f.hostname } : {}),
    ...(f.user !== undefined ? { User: f.user } : {}),
    AttachStdin: attached('stdin'),
    AttachStdout: attached('stdout'),
    AttachStderr: attached('stderr'),
    Tty: Boolean(f.tty),
    OpenStdin: Boolean(f.interactive),
    StdinOnce: Boolean(f.interactive) && attached('stdin'),
    Env: requestEnv(f, { cwd: caller.cwd, env: caller.env }),
    Cmd: command.length ? command : null,
    ...(health ? { Healthcheck: health } : {}),
    ...(Object.keys(anonymous).length ? { Volumes: anonymous } : {}),
    ...(f.workdir !== undefined ? { WorkingDir: f.workdir } : {}),
    ...(f.entrypoint !== undefined ? { Entrypoint: [f.entrypoint] } : {}),
    Labels: keyValues(f.label),
    HostConfig: host,
    ...(exposed ? { ExposedPorts: exposed } : {}),
    NetworkingConfig: { EndpointsConfig: endpointFlags(f) },
  };
  return { request, name: f.name, platform: f.platform, pull: f.pull, tlsVerify: f.tlsVerify, ...(attach ? { attach } : {}) };
}

/** `-a stdin|stdout|stderr` (docker's, any case) → the streams; none given = all of them */
export function attachStreams(list: readonly string[], detach: boolean | undefined): AttachStream[] | undefined {
  if (list.length === 0) return undefined;
  if (detach) throw new UsageError('Conflicting options: -a and -d');
  return list.map((s) => {
    const v = s.toLowerCase();
    if (v !== 'stdin' && v !== 'stdout' && v !== 'stderr') throw new UsageError(`invalid argument "${s}" for "-a, --attach" flag: valid streams are STDIN, STDOUT and STDERR`);
    return v;
  });
}
