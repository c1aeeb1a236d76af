/**
 * login/logout's side of credentials.ts: credentials saved where docker's tools look — a credential helper
 * when the config names one for the host (`credHelpers`, else `credsStore`: `docker-credential-<name> store|erase`
 * with JSON on stdin), else `auths[<server>].auth` (base64 `user:password`) in the config file, rewritten
 * atomically with mode 0600.
 */
import fs from 'node:fs';
import path from 'node:path';
import { TsdockError } from '../../errors.js';
import { writeFileAtomic } from '../../state/atomic.js';
import { credentialServerKey, dockerConfigFile, encodeAuth, findKey, keyHost, normalizeCredentialHost, readConfig, tsdockAuthFile, type Credentials, type DockerConfigFile } from './credentials.js';

/** The config file login writes: `--authfile`, else docker's config.json (DOCKER_CONFIG or ~/.docker). */
export function loginConfigFile(env: NodeJS.ProcessEnv, authFile?: string): string {
  return authFile || dockerConfigFile(env);
}

function helperFor(config: DockerConfigFile, host: string): string | undefined {
  const named = findKey(config.credHelpers, host);
  if (typeof named === 'string' && named !== '') return named;
  return typeof config.credsStore === 'string' && config.credsStore !== '' ? config.credsStore : undefined;
}

async function writeConfig(file: string, config: DockerConfigFile): Promise<void> {
  await fs.promises.mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  await writeFileAtomic(file, `${JSON.stringify(config, null, '\t')}\n`, { mode: 0o600 });
}

async function helper(name: string, verb: 'store' | 'erase', input: string, env: NodeJS.ProcessEnv): Promise<void> {
  const bin = `docker-credential-${name}`;
  const { execa } = await import('execa');
  const r = await execa(bin, [verb], { input, env, extendEnv: false, reject: false, timeout: 30_000 });
  if (r.exitCode === 0) return;
  const missing = (r as { code?: string }).code === 'ENOENT';
  const why = missing ? `${bin} not found in PATH` : (r.stderr || r.stdout || 'failed').trim().split('\n')[0];
  throw new TsdockError(`credential helper ${bin} ${verb}: ${why}`);
}

/** Save credentials for `registry`; → where they went (the helper's name or the file). */
export async function saveCredentials(registry: string, creds: Credentials, env: NodeJS.ProcessEnv, authFile?: string): Promise<string> {
  const file = loginConfigFile(env, authFile);
  const host = normalizeCredentialHost(registry);
  const key = credentialServerKey(host);
  const config = readConfig(file) ?? {};
  const store = helperFor(config, host);
  if (store) {
    await helper(store, 'store', JSON.stringify({ ServerURL: key, Username: creds.username, Secret: creds.password }), env);
  }
  config.auths = { ...config.auths };
  for (const k of Object.keys(config.auths)) if (keyHost(k) === host) delete config.auths[k];
  // with a helper, docker keeps an empty entry: the list of servers logged in to
  config.auths[key] = store ? {} : { auth: encodeAuth(creds.username, creds.password) };
  await writeConfig(file, config);
  return store ? `docker-credential-${store}` : file;
}

/**
 * Remove the credentials of `registry` (every registry with `all`) from the login file, tsdock's own auth
 * file and the helpers they name. → the servers removed.
 */
export async function removeCredentials(registry: string | undefined, env: NodeJS.ProcessEnv, authFile?: string): Promise<string[]> {
  const removed = new Set<string>();
  const files = [...new Set([loginConfigFile(env, authFile), ...(authFile ? [] : [tsdockAuthFile(env)])])];
  for (const file of files) {
    const config = readConfig(file);
    if (!config) continue;
    const keys = Object.keys(config.auths ?? {}).filter((k) => registry === undefined || keyHost(k) === normalizeCredentialHost(registry));
    for (const key of keys) {
      const store = helperFor(config, keyHost(key));
      if (store) await helper(store, 'erase', key, env);
      delete config.auths![key];
      removed.add(key);
    }
    if (keys.length) await writeConfig(file, config);
  }
  return [...removed];
}
