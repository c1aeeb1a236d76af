/** The registry flags pull, push and login share (`--tls-verify`, `--cert-dir`, `--creds`, `--authfile`), as a client. */
import path from 'node:path';
import type { Context } from '../context.js';
import { isInsecure, type RegistriesConf } from '../config/registries.js';
import { RegistryClient, type RegistryClientOptions } from './registry/client.js';
import { parseCredentials } from './registry/credentials.js';

export interface RegistryAccess {
  tlsVerify?: boolean;
  certDir?: string;
  /** "user:password" */
  creds?: string;
  authFile?: string;
}

export function clientFor(
  target: { registry: string; repository: string },
  access: RegistryAccess,
  conf: RegistriesConf,
  ctx: Context,
  extra: Partial<RegistryClientOptions> = {},
): RegistryClient {
  return new RegistryClient({
    registry: target.registry,
    repository: target.repository,
    env: ctx.env,
    tlsVerify: access.tlsVerify,
    insecure: isInsecure(conf, target.registry),
    certDirs: access.certDir ? [access.certDir] : undefined,
    credentials: access.creds ? parseCredentials(access.creds) : undefined,
    authFile: access.authFile,
    signal: ctx.signal,
    schemeCacheFile: path.join(ctx.runRoot, 'registry-schemes.json'),
    registriesConf: conf,
    ...extra,
  });
}
