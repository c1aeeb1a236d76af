import { liveLease } from '../network/leases.js';
import type { NetworkLease } from '../network/types.js';
import { goMap } from './go-map.js';
import type { Context } from '../context.js';
import { ImageStore } from '../image/store/images.js';
import { requestOf, type ContainerRecord, type ContainerState } from '../container/record.js';
import { containerDir, containerFile, loadRecordOrOrphan, rwSize } from '../container/state.js';
import { ZERO_TIME, containerState } from '../container/status.js';
import { noSuchContainer, resolveContainer } from '../container/lookup.js';

/** docker's container inspect object (the fields docker documents that tsdock has values for). */
export interface ContainerInspect {
  Id: string;
  Created: string;
  Path: string;
  Args: string[];
  State: {
    Status: string;
    Running: boolean;
    Paused: boolean;
    Restarting: boolean;
    OOMKilled: boolean;
    Dead: boolean;
    Pid: number;
    ExitCode: number;
    Error: string;
    StartedAt: string;
    FinishedAt: string;
    Health?: ContainerState['Health'];
  };
  Image: string;
  ResolvConfPath: string;
  HostnamePath: string;
  HostsPath: string;
  LogPath: string;
  Name: string;
  RestartCount: number;
  Driver: string;
  Platform: 'linux';
  MountLabel: '';
  ProcessLabel: '';
  AppArmorProfile: '';
  ExecIDs: null;
  HostConfig: Record<string, unknown>;
  GraphDriver: { Name: string; Data: Record<string, string> };
  SizeRw?: number;
  SizeRootFs?: number;
  Mounts: Array<Record<string, unknown>>;
  Config: Record<string, unknown>;
  NetworkSettings: Record<string, unknown>;
}


/** `inspect` of one container by id, id prefix or name; NotFoundError `No such container: x`. */
export async function inspectContainer(ref: string, ctx: Context, opts: { size?: boolean } = {}): Promise<ContainerInspect> {
  const id = resolveContainer(ctx.root, ref);
  const loaded = loadRecordOrOrphan(ctx.root, id);
  if (!loaded) throw noSuchContainer(ref);
  const { record: r, orphan } = loaded;
  const state = await containerState(ctx.root, id, orphan);
  const dir = containerDir(ctx.root, id);
  const out: ContainerInspect = {
    Id: id,
    Created: r.Created,
    Path: r.Path,
    Args: r.Args,
    State: {
      Status: state.Status,
      Running: state.Status === 'running' || state.Status === 'paused',
      Paused: state.Status === 'paused',
      Restarting: state.Status === 'restarting',
      OOMKilled: Boolean(state.OOMKilled),
      Dead: state.Status === 'dead',
      Pid: state.Pid ?? 0,
      ExitCode: state.ExitCode ?? 0,
      Error: state.Error ?? '',
      StartedAt: state.StartedAt ?? ZERO_TIME,
      FinishedAt: state.FinishedAt ?? ZERO_TIME,
      ...(state.Health ? { Health: state.Health } : {}),
    },
    Image: r.Image,
    ResolvConfPath: `${dir}/resolv.conf`,
    HostnamePath: `${dir}/hostname`,
    HostsPath: `${dir}/hosts`,
    LogPath: containerFile(ctx.root, id, 'log'),
    Name: `/${r.Name.replace(/^\//, '')}`,
    RestartCount: state.RestartCount ?? 0,
    Driver: r.Driver,
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: null,
    HostConfig: hostConfig(r),
    GraphDriver: { Name: r.Driver, Data: { MergedDir: `${dir}/rootfs`, UpperDir: `${dir}/upper`, WorkDir: `${dir}/work` } },
    Mounts: (r.Mounts ?? []).map(mountOf),
    Config: config(r),
    NetworkSettings: networkSettings(r.HostConfig.NetworkMode, state.Status === 'running' ? liveLease(ctx.env, id) : undefined, r.Config.ExposedPorts),
  };
  if (opts.size) {
    out.SizeRw = rwSize(ctx.root, id);
    const image = r.Image ? (await new ImageStore(ctx.root).read()).images[r.Image] : undefined;
    out.SizeRootFs = out.SizeRw + (image?.size ?? 0);
  }
  return out;
}

function hostConfig(r: ContainerRecord): Record<string, unknown> {
  const h = r.HostConfig;
  return {
    Binds: h.Binds?.length ? h.Binds : null,
    ContainerIDFile: '',
    LogConfig: { Type: h.LogConfig?.Type ?? 'k8s-file', Config: goMap(h.LogConfig?.Config ?? {}) },
    NetworkMode: h.NetworkMode,
    PortBindings: goMap({}),
    RestartPolicy: h.RestartPolicy,
    AutoRemove: h.AutoRemove,
    VolumeDriver: '',
    VolumesFrom: null,
    CapAdd: h.CapAdd?.length ? h.CapAdd : null,
    CapDrop: h.CapDrop?.length ? h.CapDrop : null,
    Dns: [],
    DnsOptions: [],
    DnsSearch: [],
    ExtraHosts: null,
    GroupAdd: null,
    IpcMode: 'private',
    Links: null,
    PidMode: '',
    Privileged: h.Privileged,
    PublishAllPorts: false,
    ReadonlyRootfs: h.ReadonlyRootfs,
    SecurityOpt: h.SecurityOpt?.length ? h.SecurityOpt : null,
    UTSMode: '',
    UsernsMode: '',
    Runtime: 'tsdock',
    Init: h.Init,
    // docker's Resources, flattened into HostConfig
    CgroupParent: h.CgroupParent ?? '',
    BlkioWeight: h.BlkioWeight ?? 0,
    CpuShares: h.CpuShares ?? 0,
    Memory: h.Memory ?? 0,
    NanoCpus: h.NanoCpus ?? 0,
    CpuPeriod: h.CpuPeriod ?? 0,
    CpuQuota: h.CpuQuota ?? 0,
    CpusetCpus: h.CpusetCpus ?? '',
    CpusetMems: h.CpusetMems ?? '',
    MemoryReservation: h.MemoryReservation ?? 0,
    MemorySwap: h.MemorySwap ?? 0,
    MemorySwappiness: h.MemorySwappiness ?? null,
    OomKillDisable: false,
    OomScoreAdj: h.OomScoreAdj ?? 0,
    PidsLimit: h.PidsLimit ?? null,
    Ulimits: h.Ulimits?.length ? h.Ulimits : null,
    Tmpfs: h.Tmpfs && Object.keys(h.Tmpfs).length ? goMap(h.Tmpfs) : null,
    Mounts: h.Mounts?.length ? h.Mounts : null,
  };
}

function mountOf(m: ContainerRecord['Mounts'][number]): Record<string, unknown> {
  if (m.Type === 'volume') return { Type: 'volume', Name: m.Name ?? '', Source: m.Source, Destination: m.Destination, Driver: 'local', Mode: '', RW: m.RW, Propagation: '' };
  if (m.Type === 'bind') return { Type: 'bind', Source: m.Source, Destination: m.Destination, Mode: '', RW: m.RW, Propagation: 'rprivate' };
  return { Type: m.Type, Source: m.Source, Destination: m.Destination, Mode: '', RW: m.RW, Propagation: '' };
}

function config(r: ContainerRecord): Record<string, unknown> {
  const c = r.Config;
  const req = requestOf(r);
  return {
    Hostname: c.Hostname,
    Domainname: '',
    User: c.User,
    AttachStdin: Boolean(req.AttachStdin),
    AttachStdout: Boolean(req.AttachStdout),
    AttachStderr: Boolean(req.AttachStderr),
    Tty: c.Tty,
    OpenStdin: c.OpenStdin,
    StdinOnce: Boolean(req.StdinOnce),
    Env: c.Env,
    Cmd: c.Cmd,
    Image: r.ImageName,
    Volumes: goMap(c.Volumes ?? null),
    WorkingDir: c.WorkingDir,
    Entrypoint: c.Entrypoint,
    OnBuild: null,
    Labels: goMap(c.Labels ?? {}),
    ...(c.StopSignal ? { StopSignal: c.StopSignal } : {}),
  };
}

/** docker's NetworkSettings: the running container's endpoints (its lease), else the mode's with no addresses. */
function networkSettings(mode: string, lease: NetworkLease | undefined, exposed: Record<string, object> | undefined): Record<string, unknown> {
  const ports: Record<string, Array<{ HostIp: string; HostPort: string }> | null> = {};
  for (const k of Object.keys(exposed ?? {})) ports[k] = null;
  for (const p of lease?.ports ?? []) (ports[`${p.containerPort}/${p.protocol}`] ??= []).push({ HostIp: p.hostIp, HostPort: String(p.hostPort) });
  if (lease?.endpoints.length) {
    const nets: Record<string, unknown> = {};
    for (const e of lease.endpoints) {
      nets[e.network] = { IPAMConfig: null, Links: null, Aliases: e.aliases.length ? e.aliases : null, MacAddress: e.mac, DriverOpts: null, NetworkID: e.networkId, EndpointID: e.hostIf, Gateway: e.gateway, IPAddress: e.ip, IPPrefixLen: e.prefix, IPv6Gateway: e.gateway6 ?? '', GlobalIPv6Address: e.ip6 ?? '', GlobalIPv6PrefixLen: e.prefix6 ?? 0, DNSNames: e.names.length ? e.names : null };
    }
    const first = lease.endpoints[0]!;
    const v6 = lease.endpoints.find((e) => e.ip6);
    return { Bridge: '', SandboxID: '', SandboxKey: `/proc/${lease.owner.pid}/ns/net`, Ports: goMap(ports), Gateway: first.gateway, IPAddress: first.ip, IPPrefixLen: first.prefix, GlobalIPv6Address: v6?.ip6 ?? '', GlobalIPv6PrefixLen: v6?.prefix6 ?? 0, IPv6Gateway: v6?.gateway6 ?? '', MacAddress: first.mac, Networks: goMap(nets) };
  }
  const name = mode || 'none';
  const endpoint = {
    IPAMConfig: null,
    Links: null,
    Aliases: null,
    MacAddress: '',
    DriverOpts: null,
    NetworkID: '',
    EndpointID: '',
    Gateway: '',
    IPAddress: '',
    IPPrefixLen: 0,
    IPv6Gateway: '',
    GlobalIPv6Address: '',
    GlobalIPv6PrefixLen: 0,
    DNSNames: null,
  };
  return { Bridge: '', SandboxID: '', SandboxKey: '', Ports: goMap(ports), Gateway: '', IPAddress: '', IPPrefixLen: 0, GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, IPv6Gateway: '', MacAddress: '', Networks: goMap({ [name]: endpoint }) };
}
