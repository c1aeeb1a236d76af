import type { ImageConfig } from '../image/manifest.js';
import type { Spec } from '../ocispec/types.js';
import type { ContainerPaths } from './store.js';
import type { ContainerRequest, PreparedContainer } from './prepare.js';
import type { ContainerRecord } from './record.js';
import { resolveHealth, type HealthFlags } from './health.js';

/** container.json for a new container: the request, the image and the resolved process, docker's field names. */
export function buildRecord(args: {
  paths: ContainerPaths;
  imageId: string;
  imageName: string;
  config: ImageConfig;
  spec: Spec;
  prepared: PreparedContainer;
  request: ContainerRequest & HealthFlags & { rm?: boolean; labels?: Record<string, string>; restart?: string; logOpts?: Record<string, string> };
}): ContainerRecord {
  const health = resolveHealth(args.config.config?.Healthcheck, args.request);
  const { paths, spec, request: r, config } = args;
  const argv = spec.process?.args ?? [];
  const c = config.config ?? {};
  const [restartName, retries] = (r.restart ?? 'no').split(':');
  return {
    Id: paths.id,
    Name: paths.name,
    Created: new Date().toISOString(),
    Image: args.imageId,
    ImageName: args.imageName,
    Driver: args.prepared.driver,
    Path: argv[0] ?? '',
    Args: argv.slice(1),
    Config: {
      Hostname: spec.hostname ?? '',
      User: r.user ?? c.User ?? '',
      Env: spec.process?.env ?? [],
      Cmd: r.command.length ? r.command : (c.Cmd ?? null),
      Entrypoint: r.entrypoint !== undefined ? (r.entrypoint ? [r.entrypoint] : null) : (c.Entrypoint ?? null),
      WorkingDir: spec.process?.cwd ?? '/',
      Labels: { ...(c.Labels ?? {}), ...(r.labels ?? {}) },
      Tty: Boolean(r.tty),
      OpenStdin: Boolean(r.interactive),
      ...(c.StopSignal ? { StopSignal: c.StopSignal } : {}),
      Volumes: c.Volumes ?? null,
      ...(health ? { Healthcheck: health } : {}),
    },
    HostConfig: {
      AutoRemove: Boolean(r.rm),
      NetworkMode: r.network,
      RestartPolicy: { Name: restartName ?? 'no', MaximumRetryCount: Number(retries ?? 0) || 0 },
      Binds: r.volume,
      ReadonlyRootfs: Boolean(r.readOnly),
      Privileged: Boolean(r.privileged),
      CapAdd: r.capAdd,
      CapDrop: r.capDrop,
      SecurityOpt: r.securityOpt,
      Init: Boolean(r.init),
      LogConfig: { Type: 'k8s-file', Config: r.logOpts ?? {} },
      ...args.prepared.resources,
      CgroupParent: r.cgroupParent ?? '',
    },
    Mounts: (spec.mounts ?? []).filter(isUserMount).map((m) => {
      const vol = /\/volumes\/([^/]+)\/_data$/.exec(m.source ?? '');
      return { Type: vol ? 'volume' : 'bind', ...(vol ? { Name: vol[1] } : {}), Source: m.source ?? '', Destination: m.destination, RW: !(m.options ?? []).includes('ro') };
    }),
    AnonymousVolumes: args.prepared.anonymousVolumes,
    Request: r,
    ...(args.prepared.cgroup ? { Cgroup: args.prepared.cgroup } : {}),
  };
}

const GENERATED = new Set(['/etc/hosts', '/etc/hostname', '/etc/resolv.conf']);

/** docker's Mounts: the user's binds and volumes, not the generated /etc files or the /dev, /sys plumbing */
function isUserMount(m: NonNullable<Spec['mounts']>[number]): boolean {
  if (m.type !== 'bind' || GENERATED.has(m.destination)) return false;
  return !/^\/(dev|sys|proc)(\/|$)/.test(m.destination);
}
