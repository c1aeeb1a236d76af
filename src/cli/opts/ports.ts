/**
 * `-p`, `--expose`, `--add-host`, `--ip`, `--mac-address`: docker's go-connections nat.ParsePortSpec and opts
 * checks, into the request's PortBindings, ExposedPorts, ExtraHosts and endpoint settings.
 */
import { isIPv6 } from 'node:net';
import { UsageError } from '../../errors.js';
import type { PortBinding } from '../../api/create.js';

const PROTOS = new Set(['tcp', 'udp', 'sctp']);

function portRange(v: string, what: string): [number, number] {
  const m = /^(\d+)(?:-(\d+))?$/.exec(v);
  const lo = m ? Number(m[1]) : NaN;
  const hi = m?.[2] !== undefined ? Number(m[2]) : lo;
  if (!m || lo < 1 || hi > 65535 || hi < lo) throw new UsageError(`invalid ${what}: ${v}`);
  return [lo, hi];
}

function splitProto(v: string): [string, string] {
  const i = v.lastIndexOf('/');
  if (i < 0) return [v, 'tcp'];
  const proto = v.slice(i + 1).toLowerCase();
  if (!PROTOS.has(proto)) throw new UsageError(`invalid proto: ${v.slice(i + 1)}`);
  return [v.slice(0, i), proto];
}

/** One `-p` value → "port/proto" → bindings (ranges expanded pairwise; a host range for one container port picks one of them at start). */
export function publishFlag(spec: string): Array<[string, PortBinding]> {
  const [rest, proto] = splitProto(spec);
  let ip = '';
  let hostPart = '';
  let containerPart: string;
  if (rest.startsWith('[')) {
    // [ipv6]:hostPort:containerPort (hostPort may be empty), as docker's ParsePortSpec
    const close = rest.indexOf(']');
    ip = close > 0 ? rest.slice(1, close) : '';
    const ports = close > 0 && rest[close + 1] === ':' ? rest.slice(close + 2).split(':') : [];
    if (!isIPv6(ip) || ports.length !== 2) throw new UsageError(`invalid IP address: ${close > 0 ? ip : rest}`);
    [hostPart, containerPart] = ports as [string, string];
  } else {
    const parts = rest.split(':');
    if (parts.length === 1) containerPart = parts[0]!;
    else if (parts.length === 2) [hostPart, containerPart] = parts as [string, string];
    else if (parts.length === 3) [ip, hostPart, containerPart] = parts as [string, string, string];
    else throw new UsageError(`invalid publish ${spec}: an IPv6 host address goes in brackets ([::1]:8080:80)`);
    if (ip && !/^\d{1,3}(\.\d{1,3}){3}$/.test(ip)) throw new UsageError(`invalid IP address: ${ip}`);
  }
  if (!containerPart) throw new UsageError(`no port specified: ${spec}<empty>`);
  const [clo, chi] = portRange(containerPart, 'containerPort');
  const host = hostPart ? portRange(hostPart, 'hostPort') : undefined;
  const out: Array<[string, PortBinding]> = [];
  const n = chi - clo + 1;
  if (host && host[1] - host[0] + 1 !== n && !(n === 1)) throw new UsageError(`invalid ranges specified for container and host Ports: ${containerPart} and ${hostPart}`);
  for (let i = 0; i < n; i++) {
    const hostPort = !host ? '' : n === 1 && host[1] !== host[0] ? `${host[0]}-${host[1]}` : String(host[0] + i);
    out.push([`${clo + i}/${proto}`, { HostIp: ip, HostPort: hostPort }]);
  }
  return out;
}

export function portBindings(specs: readonly string[]): Record<string, PortBinding[]> | undefined {
  if (!specs.length) return undefined;
  const out: Record<string, PortBinding[]> = {};
  for (const s of specs) for (const [k, b] of publishFlag(s)) (out[k] ??= []).push(b);
  return out;
}

/** `--expose 80`, `--expose 8000-8010/udp` → ExposedPorts keys */
export function exposeFlags(specs: readonly string[], published: Record<string, PortBinding[]> | undefined): Record<string, Record<string, never>> | undefined {
  const out: Record<string, Record<string, never>> = {};
  for (const s of specs) {
    const [range, proto] = splitProto(s);
    const [lo, hi] = portRange(range, 'range format for --expose');
    for (let p = lo; p <= hi; p++) out[`${p}/${proto}`] = {};
  }
  for (const k of Object.keys(published ?? {})) out[k] = {};
  return Object.keys(out).length ? out : undefined;
}

/** `--add-host name:ip` (also `name=ip`; ip may be host-gateway), docker's ValidateExtraHost */
export function addHostFlag(v: string): string {
  const i = v.search(/[:=]/);
  const name = i < 0 ? '' : v.slice(0, i);
  const ip = i < 0 ? '' : v.slice(i + 1);
  if (!name || !ip) throw new UsageError(`bad format for add-host: "${v}"`);
  if (ip !== 'host-gateway' && !/^\d{1,3}(\.\d{1,3}){3}$/.test(ip) && !ip.includes(':')) throw new UsageError(`invalid IP address in add-host: "${ip}"`);
  return `${name}:${ip}`;
}

export function ipFlag(v: string): string {
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(v) || v.split('.').some((p) => Number(p) > 255)) throw new UsageError(`invalid IPv4 address: ${v}`);
  return v;
}

export function ip6Flag(v: string): string {
  if (!isIPv6(v)) throw new UsageError(`invalid IPv6 address: ${v}`);
  return v;
}

export function macFlag(v: string): string {
  if (!/^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/.test(v)) throw new UsageError(`invalid MAC address: ${v}`);
  return v.toLowerCase();
}
