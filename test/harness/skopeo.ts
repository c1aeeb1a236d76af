// skopeo wrappers: the independent reference implementation tests compare tsdock against.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { run } from './proc.js';

export interface SkopeoAuth {
  /** `user:password` */
  creds?: string;
  /** Directory with ca.crt (and optionally client cert/key) for TLS registries. */
  certDir?: string;
  /** Default false (plain-http registries and self-signed TLS work without a cert dir). */
  tlsVerify?: boolean;
}

const TRANSPORTS = ['docker://', 'oci:', 'oci-archive:', 'dir:', 'docker-archive:', 'docker-daemon:', 'containers-storage:'];

function transportRef(ref: string): string {
  return TRANSPORTS.some((t) => ref.startsWith(t)) ? ref : `docker://${ref}`;
}

function isDocker(ref: string): boolean {
  return transportRef(ref).startsWith('docker://');
}

/** skopeo env: credentials are always explicit (--creds / --no-creds), so ambient auth files never matter. */
function skopeoEnv(): NodeJS.ProcessEnv {
  return { ...process.env };
}

/**
 * skopeo remembers in a blob-info cache (as root: /var/lib/containers/cache, no flag moves it) which blobs a
 * registry at host:port already has. Test registries reuse ports with empty storage, so a stale entry makes
 * skopeo skip an upload and the manifest push fails with "blob unknown". As root, each skopeo therefore runs
 * in a private mount namespace with an empty tmpfs over that directory.
 */
function skopeo(args: string[], opts: { env: NodeJS.ProcessEnv; timeoutMs?: number }) {
  if (process.getuid?.() !== 0) return run('skopeo', args, opts);
  const cache = '/var/lib/containers/cache';
  return run('unshare', ['-m', 'sh', '-c', `mkdir -p ${cache} && mount -t tmpfs tmpfs ${cache} && exec skopeo "$@"`, 'skopeo', ...args], opts);
}

/**
 * `skopeo inspect [--raw|--config] docker://<ref>` parsed as JSON. `ref` may be `host:port/repo:tag`,
 * `host:port/repo@sha256:…` or a full transport reference (`oci:/dir:tag`).
 */
export async function skopeoInspect(
  ref: string,
  opts: { raw?: boolean; config?: boolean } & SkopeoAuth = {},
): Promise<Record<string, any>> {
  const args = ['inspect'];
  if (opts.raw) args.push('--raw');
  if (opts.config) args.push('--config');
  if (isDocker(ref)) {
    args.push(`--tls-verify=${opts.tlsVerify ?? false}`);
    if (opts.creds) args.push('--creds', opts.creds);
    else args.push('--no-creds');
    if (opts.certDir) args.push('--cert-dir', opts.certDir);
  }
  args.push(transportRef(ref));
  const { stdout } = await skopeo(args, { env: skopeoEnv() });
  return JSON.parse(stdout) as Record<string, any>;
}

export interface SkopeoCopyOptions {
  format?: 'oci' | 'v2s2';
  all?: boolean;
  preserveDigests?: boolean;
  /** e.g. zstd — only honoured when skopeo actually recompresses (see README: use an oci: destination). */
  compressFormat?: 'gzip' | 'zstd';
  dest?: SkopeoAuth;
  src?: SkopeoAuth;
}

/** `skopeo copy` between any two transports; returns the manifest digest written (via --digestfile). */
export async function skopeoCopy(src: string, dest: string, opts: SkopeoCopyOptions = {}): Promise<string> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'tsdock-skopeo-'));
  const digestFile = path.join(tmp, 'digest');
  try {
    const args = ['copy', '--quiet', '--retry-times', '2', '--digestfile', digestFile];
    if (opts.format) args.push('--format', opts.format);
    if (opts.all) args.push('--all');
    if (opts.preserveDigests) args.push('--preserve-digests');
    if (opts.compressFormat) args.push('--dest-compress-format', opts.compressFormat);
    const s = transportRef(src);
    const d = transportRef(dest);
    if (s.startsWith('docker://')) {
      args.push(`--src-tls-verify=${opts.src?.tlsVerify ?? false}`);
      if (opts.src?.creds) args.push('--src-creds', opts.src.creds);
      else args.push('--src-no-creds');
      if (opts.src?.certDir) args.push('--src-cert-dir', opts.src.certDir);
    }
    if (d.startsWith('docker://')) {
      args.push(`--dest-tls-verify=${opts.dest?.tlsVerify ?? false}`);
      if (opts.dest?.creds) args.push('--dest-creds', opts.dest.creds);
      else args.push('--dest-no-creds');
      if (opts.dest?.certDir) args.push('--dest-cert-dir', opts.dest.certDir);
    }
    args.push(s, d);
    await skopeo(args, { env: skopeoEnv(), timeoutMs: 180_000 });
    return readFileSync(digestFile, 'utf8').trim();
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
