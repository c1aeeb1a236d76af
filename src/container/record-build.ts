import type { ImageConfig } from '../image/manifest.js';
import type { Spec } from '../ocispec/types.js';
import type { ContainerPaths } from './store.js';
import type { PreparedContainer } from './prepare.js';
import type { ContainerRecord } from './record.js';
import { resolveHealth } from './health.js';
import type { CreateRequest } from './request.js';

/**
 * container.json for a new container: the request as it came (`Request`), and what inspect shows, rendered from
 * it: Config merged with the image's as dockerd merges it, HostConfig with the resources dockerd adjusted.
 */
export function buildRecord(args: {
  paths: ContainerPaths;
  imageId: string;
  imageName: string;
  config: ImageConfig;
  spec: Spec;
  prepared: PreparedContainer;
  request: CreateRequest;
  volatile: boolean;
}): ContainerRecord {
  const { paths, spec, request: r, config } = args;
  const h = r.HostConfig;
  const health = resolveHealth(config.config?.Healthcheck, r.Healthcheck);
  const argv = spec.process?.args ?? [];
  const c = config.config ?? {};
  const userEntrypoint = r.Entrypoint?.length === 1 && r.Entrypoint[0] === '' ? null : r.Entrypoint;
  return {
    Id: paths.id,
    Name: paths.name,
    Created: new Date().toISOString(),
    Image: args.imageId,
    ImageName: args.imageName,
    Driver: args.prepared.driver,
    ...(args.volatile ? { Volatile: true } : {}),
    Path: argv[0] ?? '',
    Args: argv.slice(1),
    Config: {
      Hostname: spec.hostname ?? '',
      User: r.User || c.User || '',
      Env: spec.process?.env ?? [],
      Cmd: r.Cmd?.length ? r.Cmd : r.Entrypoint ? null : (c.Cmd ?? null),
      Entrypoint: r.Entrypoint ? (userEntrypoint ?? null) : (c.Entrypoint ?? null),
      WorkingDir: spec.process?.cwd ?? '/',
      Labels: { ...(c.Labels ?? {}), ...(r.Labels ?? {}) },
      Tty: Boolean(r.Tty),
      OpenStdin: Boolean(r.OpenStdin),
      ...(r.StopSignal || c.StopSignal ? { StopSignal: r.StopSignal || c.StopSignal } : {}),
      Volumes: c.Volumes || r.Volumes ? { ...(c.Volumes ?? {}), ...(r.Volumes ?? {}) } : null,
      ...(health ? { Healthcheck: health } : {}),
      ...(c.ExposedPorts || r.ExposedPorts ? { ExposedPorts: { ...(c.ExposedPorts ?? {}), ...(r.ExposedPorts ?? {}) } as Record<string, Record<string, never>> } : {}),
    },
    HostConfig: {
      ...h,
      AutoRemove: Boolean(h.AutoRemove),
      NetworkMode: h.NetworkMode ?? 'none',
      RestartPolicy: { Name: h.RestartPolicy?.Name || 'no', MaximumRetryCount: h.RestartPolicy?.MaximumRetryCount ?? 0 },
      Binds: h.Binds ?? [],
      ReadonlyRootfs: Boolean(h.ReadonlyRootfs),
      Privileged: Boolean(h.Privileged),
      CapAdd: h.CapAdd ?? [],
      CapDrop: h.CapDrop ?? [],
      SecurityOpt: h.SecurityOpt ?? [],
      Init: Boolean(h.Init),
      LogConfig: { Type: 'k8s-file', Config: h.LogConfig?.Config ?? {} },
      ...args.prepared.resources,
      CgroupParent: h.CgroupParent ?? '',
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
