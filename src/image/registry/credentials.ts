/**
 * Registry credentials, looked up (first hit wins) in
 *   1. tsdock's auth file: `$REGISTRY_AUTH_FILE`, else `${XDG_CONFIG_HOME:-~/.config}/tsdock/auth.json`
 *   2. docker's `${DOCKER_CONFIG:-~/.docker}/config.json`
 * Both use docker's config format. Within a file: `credHelpers[host]`, then an `auths` entry
 * (`auth` = base64 "user:pass", or `username`/`password`, optional `identitytoken`), then `credsStore`.
 * Helpers are `docker-credential-<name> get` with the server URL on stdin, answering `{Username, Secret}`;
 * a Username of `<token>` means Secret is an identity (refresh) token.
 * docker.io is stored under `https://index.docker.io/v1/`; keys are also matched by hostname
 * (`https://host/v2/` → `host`), as docker does.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { TsdockError, UsageError } from '../../errors.js';

export interface Credentials {
  username: string;
  password: string;
  /** OAuth2 refresh token (docker's `identitytoken`); used instead of the password for bearer tokens */
  identityToken?: string;
}

/** `--creds user:password` (a password may hold colons; no colon: an empty password). */
export function parseCredentials(creds: string): Credentials {
  const i = creds.indexOf(':');
  if (i < 0) return { username: creds, password: '' };
  return { username: creds.slice(0, i), password: creds.slice(i + 1) };
}

export const DOCKER_HUB_SERVER = 'https://index.docker.io/v1/';

export interface AuthConfigEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
}

export interface DockerConfigFile {
  auths?: Record<string, AuthConfigEntry>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

function home(env: NodeJS.ProcessEnv): string {
  return env.HOME || os.homedir();
}

/** tsdock's own auth file (where `tsdock login` writes). */
export function tsdockAuthFile(env: NodeJS.ProcessEnv): string {
  if (env.REGISTRY_AUTH_FILE) return env.REGISTRY_AUTH_FILE;
  return path.join(env.XDG_CONFIG_HOME || path.join(home(env), '.config'), 'tsdock', 'auth.json');
}

export function dockerConfigFile(env: NodeJS.ProcessEnv): string {
  return path.join(env.DOCKER_CONFIG || path.join(home(env), '.docker'), 'config.json');
}

/** docker.io, index.docker.io and registry-1.docker.io are one registry. */
export function normalizeCredentialHost(host: string): string {
  const h = host.toLowerCase();
  return h === 'index.docker.io' || h === 'registry-1.docker.io' ? 'docker.io' : host;
}

/** The key / server URL credentials for `registry` are stored under: docker.io → https://index.docker.io/v1/. */
export function credentialServerKey(registry: string): string {
  return normalizeCredentialHost(registry) === 'docker.io' ? DOCKER_HUB_SERVER : registry;
}

/** `https://host:5000/v2/` → `host:5000`, normalized. */
export function keyHost(key: string): string {
  return normalizeCredentialHost(key.replace(/^[a-z]+:\/\//i, '').split('/')[0]!);
}

/**
 * Credentials for a registry host (`docker.io`, `quay.io`, `127.0.0.1:5000`); `authFile` replaces tsdock's
 * own auth file (like podman's --authfile), docker's config.json is still consulted after it.
 */
export async function getCredentials(
  registry: string,
  env: NodeJS.ProcessEnv,
  opts: { authFile?: string } = {},
): Promise<Credentials | undefined> {
  const host = normalizeCredentialHost(registry);
  for (const file of [opts.authFile || tsdockAuthFile(env), dockerConfigFile(env)]) {
    const config = readConfig(file);
    if (!config) continue;
    const found = await fromConfig(config, host, file, env);
    if (found) return found;
  }
  return undefined;
}

export function readConfig(file: string): DockerConfigFile | undefined {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw new UsageError(`cannot read credentials file ${file}: ${(err as Error).message}`, { cause: err });
  }
  if (text.trim() === '') return undefined;
  try {
    const doc = JSON.parse(text) as unknown;
    if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new Error('not a json object');
    return doc as DockerConfigFile;
  } catch (err) {
    throw new UsageError(`cannot parse credentials file ${file}: ${(err as Error).message}`, { cause: err });
  }
}

export function findKey<T>(map: Record<string, T> | undefined, host: string): T | undefined {
  if (!map || typeof map !== 'object') return undefined;
  const exact = [credentialServerKey(host), host, `https://${host}`, `http://${host}`];
  for (const key of exact) if (Object.hasOwn(map, key)) return map[key];
  for (const [key, value] of Object.entries(map)) if (keyHost(key) === host) return value;
  return undefined;
}

async function fromConfig(config: DockerConfigFile, host: string, file: string, env: NodeJS.ProcessEnv): Promise<Credentials | undefined> {
  const helper = findKey(config.credHelpers, host);
  if (typeof helper === 'string' && helper !== '') return runHelper(helper, credentialServerKey(host), env);
  const entry = findKey(config.auths, host);
  if (entry && typeof entry === 'object') {
    const creds = decodeEntry(entry, host, file);
    if (creds) return creds;
  }
  if (typeof config.credsStore === 'string' && config.credsStore !== '') return runHelper(config.credsStore, credentialServerKey(host), env);
  return undefined;
}

function decodeEntry(entry: AuthConfigEntry, host: string, file: string): Credentials | undefined {
  let username = entry.username ?? '';
  let password = entry.password ?? '';
  if (typeof entry.auth === 'string' && entry.auth !== '') {
    const decoded = decodeAuth(entry.auth);
    if (!decoded) throw new UsageError(`invalid auth entry for ${host} in ${file}: expected base64 of "user:password"`);
    ({ username, password } = decoded);
  }
  const creds: Credentials = { username, password };
  if (typeof entry.identitytoken === 'string' && entry.identitytoken !== '') creds.identityToken = entry.identitytoken;
  if (!username && !password && !creds.identityToken) return undefined;
  return creds;
}

/** config.json's `auth`: base64 of `user:password`. */
export function encodeAuth(username: string, password: string): string {
  return Buffer.from(`${username}:${password}`, 'utf8').toString('base64');
}

/** The inverse of encodeAuth; undefined when the decoded text has no colon. */
export function decodeAuth(auth: string): { username: string; password: string } | undefined {
  const decoded = Buffer.from(auth, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1) return undefined;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** Run `docker-credential-<name> get`; undefined when the helper has no credentials for the server. */
export async function runHelper(name: string, serverUrl: string, env: NodeJS.ProcessEnv): Promise<Credentials | undefined> {
  const bin = `docker-credential-${name}`;
  const result = await new Promise<{ code: number | string | null; stdout: string; stderr: string }>((resolve) => {
    const child = execFile(bin, ['get'], { env, timeout: 30_000, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      const code = err ? ((err as NodeJS.ErrnoException).code ?? (err as { status?: number }).status ?? 1) : 0;
      resolve({ code: typeof code === 'number' || typeof code === 'string' ? code : 1, stdout: String(stdout).replace(/\n$/, ''), stderr: String(stderr).trim() });
    });
    child.stdin?.on('error', () => {});
    child.stdin?.end(serverUrl);
  });
  if (result.code !== 0) {
    const output = `${result.stdout}\n${result.stderr}`.toLowerCase();
    if (result.code !== 'ENOENT' && output.includes('credentials not found')) return undefined;
    const why = result.code === 'ENOENT' ? `${bin} not found in PATH` : (result.stderr || result.stdout || 'failed').trim();
    throw new TsdockError(`error getting credentials for ${serverUrl} from credential helper ${bin}: ${why}`);
  }
  let reply: { Username?: unknown; Secret?: unknown };
  try {
    reply = JSON.parse(result.stdout) as { Username?: unknown; Secret?: unknown };
  } catch {
    throw new TsdockError(`credential helper ${bin} returned invalid json for ${serverUrl}`);
  }
  const username = typeof reply.Username === 'string' ? reply.Username : '';
  const secret = typeof reply.Secret === 'string' ? reply.Secret : '';
  if (!username && !secret) return undefined;
  if (username === '<token>') return { username: '', password: '', identityToken: secret };
  return { username, password: secret };
}
