/**
 * `commit -c` / `--change`: one Dockerfile instruction (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, STOPSIGNAL,
 * USER, VOLUME, WORKDIR) parsed up front (a bad one fails before any work) into a change of the image config.
 */
import path from 'node:path';
import { TsdockError, UsageError } from '../errors.js';
import type { ContainerConfig } from './manifest.js';

export type Change = (cfg: ContainerConfig) => void;

/** One `-c` instruction in Dockerfile syntax. */
export function parseChange(instr: string): Change {
  const m = /^\s*(\w+)\s*(.*)$/s.exec(instr);
  if (!m) throw new UsageError(`invalid change: ${JSON.stringify(instr)}`);
  const kw = m[1]!.toUpperCase();
  const rest = m[2]!.trim();
  const list = (shell: boolean): string[] => {
    if (rest.startsWith('[')) {
      try {
        const v = JSON.parse(rest) as unknown;
        if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
      } catch {
        // not JSON: shell form
      }
    }
    return shell ? ['/bin/sh', '-c', rest] : splitWords(rest);
  };
  switch (kw) {
    case 'CMD':
      return (c) => void (c.Cmd = list(true));
    case 'ENTRYPOINT':
      return (c) => void (c.Entrypoint = list(true));
    case 'WORKDIR':
      return (c) => void (c.WorkingDir = rest.startsWith('/') ? rest : path.posix.join(c.WorkingDir || '/', rest));
    case 'USER':
      return (c) => void (c.User = rest);
    case 'STOPSIGNAL':
      return (c) => void (c.StopSignal = rest);
    case 'ENV': {
      const pairs = keyValues(rest, 'ENV');
      return (c) => {
        const env = [...(c.Env ?? [])];
        for (const [k, v] of pairs) {
          const i = env.findIndex((e) => e.split('=')[0] === k);
          if (i >= 0) env[i] = `${k}=${v}`;
          else env.push(`${k}=${v}`);
        }
        c.Env = env;
      };
    }
    case 'LABEL': {
      const pairs = keyValues(rest, 'LABEL');
      return (c) => {
        c.Labels = { ...(c.Labels ?? {}) };
        for (const [k, v] of pairs) c.Labels[k] = v;
      };
    }
    case 'EXPOSE': {
      const ports = splitWords(rest).map((p) => (p.includes('/') ? p.toLowerCase() : `${p}/tcp`));
      for (const p of ports) if (!/^\d+(-\d+)?\/(tcp|udp|sctp)$/.test(p)) throw new UsageError(`invalid containerPort: ${p}`);
      return (c) => {
        c.ExposedPorts = { ...(c.ExposedPorts ?? {}) };
        for (const p of ports) c.ExposedPorts[p] = {};
      };
    }
    case 'VOLUME': {
      const vols = list(false);
      return (c) => {
        c.Volumes = { ...(c.Volumes ?? {}) };
        for (const v of vols) c.Volumes[v] = {};
      };
    }
    case 'ONBUILD':
      return (c) => void (c.OnBuild = [...(c.OnBuild ?? []), rest]);
    default:
      throw new TsdockError(`${kw} is not a valid change command`);
  }
}

/** Words with "double" and 'single' quotes and backslash escapes. */
function splitWords(s: string): string[] {
  const out: string[] = [];
  let cur = '';
  let any = false;
  let q: string | undefined;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (q) {
      if (ch === q) q = undefined;
      else if (ch === '\\' && q === '"' && i + 1 < s.length) cur += s[++i];
      else cur += ch;
      continue;
    }
    if (ch === '"' || ch === "'") {
      q = ch;
      any = true;
    } else if (ch === '\\' && i + 1 < s.length) {
      cur += s[++i];
      any = true;
    } else if (/\s/.test(ch)) {
      if (any) out.push(cur);
      cur = '';
      any = false;
    } else {
      cur += ch;
      any = true;
    }
  }
  if (q) throw new UsageError(`unterminated quote in ${JSON.stringify(s)}`);
  if (any) out.push(cur);
  return out;
}

/** `K=V K2="v 2"` or the legacy `K value with spaces`. */
function keyValues(rest: string, kw: string): Array<[string, string]> {
  const words = splitWords(rest);
  if (words.length === 0) throw new UsageError(`${kw} requires at least one argument`);
  if (!words[0]!.includes('=')) {
    const m = /^(\S+)\s+(.*)$/s.exec(rest);
    if (!m) throw new UsageError(`${kw} names can not be blank`);
    return [[m[1]!, splitWords(m[2]!).join(' ')]];
  }
  return words.map((w) => {
    const i = w.indexOf('=');
    if (i <= 0) throw new UsageError(`${kw} needs key=value pairs: ${w}`);
    return [w.slice(0, i), w.slice(i + 1)];
  });
}
