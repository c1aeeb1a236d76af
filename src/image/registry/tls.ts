/**
 * Transport policy for a registry host: which schemes to try and which TLS options to use.
 *
 * - `tlsVerify: true`  → https only, certificates verified, even for loopback or insecure hosts.
 * - `tlsVerify: false` → https without verification, falling back to plain http.
 * - default            → https with verification; hosts that are loopback (`localhost`, `127.x`, `[::1]`)
 *   or marked `insecure` in registries.conf are treated like docker treats insecure registries: https
 *   without verification first, then plain http.
 * CAs come from `<certDir>/<host[:port]>/*.crt` (added to the system roots) and client certificates from
 * `<certDir>/<host[:port]>/<name>.cert` + `<name>.key`, for each certDir (docker's and containers').
 * The https-or-http decision for a host is cached for the life of the process.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { UsageError } from '../../errors.js';
import { writeFileAtomicSync } from '../../state/atomic.js';
import type { TlsOptions } from './http.js';

export type Scheme = 'https' | 'http';

export interface TransportPolicyOptions {
  tlsVerify?: boolean;
  /** from registries.conf */
  insecure?: boolean;
  certDirs?: string[];
  /** the scheme cache shared by this user's processes (loadSchemeCache) */
  schemeCacheFile?: string;
}

export interface TransportPolicy {
  /** schemes to try, in order */
  schemes: Scheme[];
  /** the scheme to use without asking first: the only one allowed, or the one this host answered on before */
  known: Scheme | undefined;
  tls: TlsOptions;
}

export function defaultCertDirs(env: NodeJS.ProcessEnv): string[] {
  const dirs = ['/etc/docker/certs.d', '/etc/containers/certs.d'];
  if (process.getuid?.() !== 0) {
    const configHome = env.XDG_CONFIG_HOME || path.join(env.HOME || os.homedir(), '.config');
    dirs.unshift(path.join(configHome, 'docker', 'certs.d'), path.join(configHome, 'containers', 'certs.d'));
  }
  return dirs;
}

/**
 * `localhost` itself, `127.0.0.0/8`, `::1`, with or without a port. Not `*.localhost`: RFC 6761 asks resolvers
 * to answer those with loopback, but nothing makes the one in use do so (a search domain, a DNS server or
 * /etc/hosts can send `registry.localhost` anywhere), and plain http there would carry credentials and images
 * unprotected.
 */
export function isLoopbackHost(host: string): boolean {
  let name = host;
  if (name.startsWith('[')) name = name.slice(1, name.indexOf(']'));
  else if (name.split(':').length === 2) name = name.split(':')[0]!;
  name = name.toLowerCase();
  if (name === 'localhost' || name === '::1') return true;
  const octets = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(name);
  return octets !== null && octets.slice(1).every((o) => Number(o) <= 255);
}

/** Read CA files and client certificate pairs for `host` from the cert directories. */
export function loadHostCerts(host: string, certDirs: string[]): { ca: Buffer[]; cert?: Buffer; key?: Buffer } {
  const ca: Buffer[] = [];
  let cert: Buffer | undefined;
  let key: Buffer | undefined;
  for (const base of certDirs) {
    const dir = path.join(base, host);
    let names: string[];
    try {
      names = fs.readdirSync(dir).sort();
    } catch {
      continue;
    }
    for (const name of names) {
      const file = path.join(dir, name);
      if (name.endsWith('.crt')) ca.push(fs.readFileSync(file));
      else if (name.endsWith('.cert') && cert === undefined) {
        const keyName = `${name.slice(0, -'.cert'.length)}.key`;
        if (!names.includes(keyName)) throw new UsageError(`missing key ${keyName} for client certificate ${file}`);
        cert = fs.readFileSync(file);
        key = fs.readFileSync(path.join(dir, keyName));
      } else if (name.endsWith('.key')) {
        const certName = `${name.slice(0, -'.key'.length)}.cert`;
        if (!names.includes(certName)) throw new UsageError(`missing client certificate ${certName} for key ${file}`);
      }
    }
  }
  const out: { ca: Buffer[]; cert?: Buffer; key?: Buffer } = { ca };
  if (cert) out.cert = cert;
  if (key) out.key = key;
  return out;
}

export function transportPolicy(host: string, opts: TransportPolicyOptions & { env?: NodeJS.ProcessEnv }): TransportPolicy {
  // Insecure (no verification, http allowed): --tls-verify=false or registries.conf `insecure`.
  // Loopback registries may speak plain http, but an https one is still verified (podman's stance; docker
  // would skip verification for 127.0.0.0/8), so a wrong or missing CA fails instead of passing silently.
  const relaxed = opts.tlsVerify === false || (opts.tlsVerify !== true && opts.insecure === true);
  const httpAllowed = relaxed || (opts.tlsVerify !== true && isLoopbackHost(host));
  const certs = loadHostCerts(host, opts.certDirs ?? defaultCertDirs(opts.env ?? process.env));
  const tlsOptions: TlsOptions = {};
  if (certs.ca.length > 0) tlsOptions.ca = [...tls.rootCertificates, ...certs.ca];
  if (certs.cert) tlsOptions.cert = certs.cert;
  if (certs.key) tlsOptions.key = certs.key;
  if (relaxed) tlsOptions.rejectUnauthorized = false;
  if (opts.schemeCacheFile) loadSchemeCache(opts.schemeCacheFile);
  const cached = schemeCache.get(host);
  const schemes: Scheme[] = !httpAllowed ? ['https'] : cached === 'http' ? ['http', 'https'] : ['https', 'http'];
  const known = schemes.length === 1 ? schemes[0] : cached;
  return { schemes, known, tls: tlsOptions };
}

const schemeCache = new Map<string, Scheme>();
/** what each scheme-cache file holds (as loaded, then as written) */
const files = new Map<string, Record<string, Scheme>>();

/**
 * Where a host's answer is kept across processes (`{ host: scheme }`, in the user's private runtime dir): every
 * CLI is a new process, and probing https first costs a plain-http registry a TLS load and a failed handshake on
 * each pull. It only orders the schemes the policy already allows; a stale entry costs one failed attempt.
 */
export function loadSchemeCache(file: string): void {
  if (files.has(file)) return;
  const held: Record<string, Scheme> = {};
  try {
    const saved = JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>;
    for (const [host, scheme] of Object.entries(saved)) if (scheme === 'http' || scheme === 'https') held[host] = scheme;
  } catch {
    // none yet, or unreadable: probe as usual
  }
  files.set(file, held);
  for (const [host, scheme] of Object.entries(held)) if (!schemeCache.has(host)) schemeCache.set(host, scheme);
}

/** Remember which scheme answered for a host (used to order `schemes` for later clients), in `file` too. */
export function rememberScheme(host: string, scheme: Scheme, file?: string): void {
  schemeCache.set(host, scheme);
  if (!file) return;
  loadSchemeCache(file);
  const held = files.get(file)!;
  if (held[host] === scheme) return;
  held[host] = scheme;
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    writeFileAtomicSync(file, JSON.stringify(held), { mode: 0o600 });
  } catch {
    // a cache: the next process probes again
  }
}

export function cachedScheme(host: string): Scheme | undefined {
  return schemeCache.get(host);
}

