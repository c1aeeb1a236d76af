import fs from 'node:fs';
import os from 'node:os';
import type { Context } from '../context.js';
import { ImageStore } from '../image/store/images.js';
import { loadRegistriesConf } from '../config/registries.js';
import { VERSION } from '../version.js';
import { chooseDriver } from '../storage/driver.js';
import { rootlessDefault } from '../network/rootless-net.js';
import { doctor, doctorSummary } from './doctor.js';
import { listContainers } from './ps.js';

export interface SystemInfo {
  ServerVersion: string;
  Containers: number;
  ContainersRunning: number;
  ContainersPaused: number;
  ContainersStopped: number;
  Images: number;
  Driver: string;
  /** why that driver (overlay, or the vfs copying fallback) */
  DriverStatus: string;
  RootDir: string;
  RunRoot: string;
  Rootless: boolean;
  CgroupVersion: '1' | '2';
  CgroupMode: 'v1' | 'hybrid' | 'v2';
  KernelVersion: string;
  OperatingSystem: string;
  OSType: string;
  Architecture: string;
  NCPU: number;
  MemTotal: number;
  Name: string;
  RegistrySearch: string[];
  /** what `run` gives a container without --network: bridge (rootful), pasta (rootless), or none when pasta cannot work */
  DefaultNetwork: 'bridge' | 'pasta' | 'slirp4netns' | 'none';
  /** how that network is made, or what to install or change for rootless networking */
  NetworkStatus: string;
  /** `doctor`'s short form: the names of the checks that fail and warn */
  Doctor: { failures: string[]; warnings: string[] };
}

const CGROUP2_SUPER_MAGIC = 0x63677270;

/** v2 when /sys/fs/cgroup itself is cgroup2; hybrid when v1 controllers sit beside a cgroup2 at unified/. */
export function cgroupMode(base = '/sys/fs/cgroup'): SystemInfo['CgroupMode'] {
  try {
    if (fs.statfsSync(base).type === CGROUP2_SUPER_MAGIC) return 'v2';
  } catch {
    return 'v1';
  }
  try {
    if (fs.statfsSync(`${base}/unified`).type === CGROUP2_SUPER_MAGIC) return 'hybrid';
  } catch {
    // no unified hierarchy
  }
  return 'v1';
}

function osName(): string {
  try {
    const m = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(fs.readFileSync('/etc/os-release', 'utf8'));
    if (m) return m[1]!;
  } catch {
    // fall through
  }
  return os.type();
}


function searchRegistries(env: NodeJS.ProcessEnv): string[] {
  const configured = loadRegistriesConf(env).unqualifiedSearchRegistries;
  return configured.length ? configured.slice(0, 1) : ['docker.io'];
}

function networkInfo(ctx: Context): Pick<SystemInfo, 'DefaultNetwork' | 'NetworkStatus'> {
  if (ctx.rootful) return { DefaultNetwork: 'bridge', NetworkStatus: 'bridge networks: veth pairs, nftables (table tsdock)' };
  const choice = rootlessDefault(ctx.env);
  return choice.problem ? { DefaultNetwork: 'none', NetworkStatus: choice.problem } : { DefaultNetwork: choice.helper, NetworkStatus: `rootless networking with ${choice.helper}` };
}

export async function systemInfo(ctx: Context): Promise<SystemInfo> {
  const mode = cgroupMode();
  const driver = chooseDriver(ctx.storageDriver, ctx.rootful);
  const images = (await new ImageStore(ctx.root).list()).length;
  const states = (await listContainers({ all: true }, ctx)).map((c) => c.State.Status);
  const running = states.filter((s) => s === 'running' || s === 'restarting').length;
  const paused = states.filter((s) => s === 'paused').length;
  return {
    ServerVersion: VERSION,
    Containers: states.length,
    ContainersRunning: running,
    ContainersPaused: paused,
    ContainersStopped: states.length - running - paused,
    Images: images,
    Driver: driver.driver,
    DriverStatus: driver.reason,
    RootDir: ctx.root,
    RunRoot: ctx.runRoot,
    Rootless: !ctx.rootful,
    CgroupVersion: mode === 'v2' ? '2' : '1',
    CgroupMode: mode,
    KernelVersion: os.release(),
    OperatingSystem: osName(),
    OSType: 'linux',
    Architecture: os.machine(),
    NCPU: os.cpus().length,
    MemTotal: os.totalmem(),
    Name: os.hostname(),
    RegistrySearch: searchRegistries(ctx.env),
    ...networkInfo(ctx),
    Doctor: doctorSummary(doctor(ctx)),
  };
}
