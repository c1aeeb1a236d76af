/** login and logout: credentials checked against the registry's `/v2/` before they are saved (credentials-store.ts). */
import type { Context } from '../context.js';
import { UsageError } from '../errors.js';
import { loadRegistriesConf } from '../config/registries.js';
import { clientFor, type RegistryAccess } from './registry-access.js';
import { normalizeCredentialHost } from './registry/credentials.js';
import { removeCredentials, saveCredentials } from './registry/credentials-store.js';

export interface LoginOptions extends Omit<RegistryAccess, 'creds'> {
  /** a host (`127.0.0.1:5000`) or a URL (`https://quay.io/v2/`); default docker.io */
  server?: string;
  username: string;
  password: string;
}

/** `https://host:5000/v2/` → `host:5000`; none → docker.io. */
export function serverHost(server: string | undefined): string {
  if (!server) return 'docker.io';
  const host = server.replace(/^[a-z]+:\/\//i, '').split('/')[0]!;
  if (!host) throw new UsageError(`invalid registry "${server}"`);
  return normalizeCredentialHost(host);
}

/** Check the credentials against the registry, then save them; → where they were saved. */
export async function loginRegistry(opts: LoginOptions, ctx: Context): Promise<{ registry: string; savedTo: string }> {
  if (!opts.username) throw new UsageError('login: a username is required (-u)');
  if (!opts.password) throw new UsageError('login: a password is required (-p or --password-stdin)');
  const registry = serverHost(opts.server);
  const creds = { username: opts.username, password: opts.password };
  const client = clientFor({ registry, repository: '' }, opts, loadRegistriesConf(ctx.env), ctx, { credentials: creds });
  await client.checkLogin();
  return { registry, savedTo: await saveCredentials(registry, creds, ctx.env, opts.authFile) };
}

/** Forget the credentials of one registry (or all): → the server keys removed. */
export async function logoutRegistry(opts: { server?: string; all?: boolean; authFile?: string }, ctx: Context): Promise<{ registry?: string; removed: string[] }> {
  if (opts.all && opts.server) throw new UsageError('logout: --all takes no server');
  const registry = opts.all ? undefined : serverHost(opts.server);
  return { ...(registry ? { registry } : {}), removed: await removeCredentials(registry, ctx.env, opts.authFile) };
}
