/**
 * What the config-only instructions do to an image config, docker's rules (pure): ENV replaces or appends,
 * LABEL merges, EXPOSE adds `port/proto` (tcp by default), VOLUME adds paths, WORKDIR resolves against the
 * current one, CMD/ENTRYPOINT in shell form go through the stage's SHELL, ENTRYPOINT clears a CMD the stage has
 * not set itself (inherited), HEALTHCHECK NONE disables, ONBUILD appends its trigger, MAINTAINER sets the author.
 * Each returns the new config; history entries are the builder's (`historyText`).
 */
import path from 'node:path';
import type { ContainerConfig, HealthConfig, ImageConfig } from '../../image/manifest.js';
import type { CommandLine, Healthcheck, Instruction } from '../dockerfile/types.js';

export const DEFAULT_SHELL: readonly string[] = ['/bin/sh', '-c'];

/** A stage's config bookkeeping beside the image config: whether CMD was set in this stage. */
export interface StageFlags {
  cmdSet: boolean;
}

export function shellOf(cfg: ContainerConfig | undefined): readonly string[] {
  return cfg?.Shell?.length ? cfg.Shell : DEFAULT_SHELL;
}

/** A command line as argv: exec form as is, shell form through the shell. */
export function commandArgv(cmd: CommandLine, shell: readonly string[]): string[] {
  return cmd.form === 'exec' ? [...cmd.args] : [...shell, cmd.command];
}

export function setEnv(env: readonly string[] | null | undefined, key: string, value: string): string[] {
  const out = [...(env ?? [])];
  const i = out.findIndex((e) => e.slice(0, e.indexOf('=') < 0 ? e.length : e.indexOf('=')) === key);
  if (i >= 0) out[i] = `${key}=${value}`;
  else out.push(`${key}=${value}`);
  return out;
}

/** `80` → `80/tcp`, `53/UDP` → `53/udp`, ranges kept (`8000-8002/tcp` expands as docker does). */
export function exposedPorts(specs: readonly string[]): string[] {
  const out: string[] = [];
  for (const spec of specs) {
    const [ports, proto = 'tcp'] = spec.split('/');
    const range = /^(\d+)(?:-(\d+))?$/.exec(ports ?? '');
    if (!range) throw new Error(`invalid containerPort: ${ports}`);
    const lo = Number(range[1]);
    const hi = range[2] ? Number(range[2]) : lo;
    if (hi < lo || hi > 65535) throw new Error(`invalid range specified for container port: ${ports}`);
    for (let p = lo; p <= hi; p++) out.push(`${p}/${proto.toLowerCase()}`);
  }
  return out;
}

function healthConfig(h: Healthcheck): HealthConfig {
  if (h.type === 'none') return { Test: ['NONE'] };
  const out: HealthConfig = { Test: [...h.test] };
  if (h.interval) out.Interval = h.interval;
  if (h.timeout) out.Timeout = h.timeout;
  if (h.startPeriod) out.StartPeriod = h.startPeriod;
  if (h.startInterval) out.StartInterval = h.startInterval;
  if (h.retries) out.Retries = h.retries;
  return out;
}

/** WORKDIR's absolute path: relative paths resolve against the current working directory (or `/`). */
export function workdirPath(current: string | undefined, p: string): string {
  return path.posix.resolve(current || '/', p);
}

/** Applies a config-only instruction (already expanded) to `image`; undefined for kinds that are not config-only. */
export function applyConfig(image: ImageConfig, inst: Instruction, flags: StageFlags): ImageConfig | undefined {
  const cfg: ContainerConfig = { ...(image.config ?? {}) };
  const out: ImageConfig = { ...image, config: cfg };
  switch (inst.kind) {
    case 'env':
      for (const p of inst.pairs) cfg.Env = setEnv(cfg.Env, p.key, p.value);
      return out;
    case 'label':
      cfg.Labels = { ...(cfg.Labels ?? {}) };
      for (const p of inst.pairs) cfg.Labels[p.key] = p.value;
      return out;
    case 'maintainer':
      return { ...out, author: inst.maintainer };
    case 'expose':
      cfg.ExposedPorts = { ...(cfg.ExposedPorts ?? {}) };
      for (const p of exposedPorts(inst.ports)) cfg.ExposedPorts[p] = {};
      return out;
    case 'volume':
      cfg.Volumes = { ...(cfg.Volumes ?? {}) };
      for (const p of inst.paths) {
        if (p.trim() === '') throw new Error('VOLUME specified can not be an empty string');
        cfg.Volumes[p] = {};
      }
      return out;
    case 'user':
      cfg.User = inst.user;
      return out;
    case 'workdir':
      cfg.WorkingDir = workdirPath(cfg.WorkingDir, inst.path);
      return out;
    case 'cmd':
      cfg.Cmd = commandArgv(inst.command, shellOf(cfg));
      flags.cmdSet = true;
      return out;
    case 'entrypoint':
      cfg.Entrypoint = commandArgv(inst.command, shellOf(cfg));
      if (!flags.cmdSet) cfg.Cmd = null;
      return out;
    case 'stopsignal':
      cfg.StopSignal = inst.signal;
      return out;
    case 'healthcheck':
      cfg.Healthcheck = healthConfig(inst.health);
      return out;
    case 'shell':
      cfg.Shell = [...inst.shell];
      return out;
    case 'onbuild':
      cfg.OnBuild = [...(cfg.OnBuild ?? []), inst.expression];
      return out;
    default:
      return undefined;
  }
}
