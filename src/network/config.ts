/**
 * Network settings in podman's containers.conf(5) names, from tsdock's own file so a podman configuration on
 * the same host does not move tsdock's networks onto podman's: `$TSDOCK_CONTAINERS_CONF`, else (rootless)
 * `${XDG_CONFIG_HOME:-~/.config}/tsdock/containers.conf`, else `/etc/tsdock/containers.conf`. A missing file means
 * the defaults. Read: `[network] default_subnet` (the default network's, 10.90.0.0/16: not docker's 172.17/16 nor
 * podman's 10.88/16, which a host running either already routes), `default_subnet_pools` (10.91.0.0/16 in /24s)
 * and `default_rootless_network_cmd` (`pasta`, or `slirp4netns`: the rootless default's helper).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'smol-toml';
import { TsdockError } from '../errors.js';

export interface NetworkConfig {
  defaultSubnet: string;
  pools: Array<{ base: string; size: number }>;
  rootlessCmd: 'pasta' | 'slirp4netns';
}

export const DEFAULT_NETWORK_CONFIG: NetworkConfig = { defaultSubnet: '10.90.0.0/16', pools: [{ base: '10.91.0.0/16', size: 24 }], rootlessCmd: 'pasta' };

export function containersConfPath(env: NodeJS.ProcessEnv): string {
  if (env.TSDOCK_CONTAINERS_CONF) return env.TSDOCK_CONTAINERS_CONF;
  if (process.getuid?.() !== 0) return path.join(env.XDG_CONFIG_HOME || path.join(env.HOME || os.homedir(), '.config'), 'tsdock', 'containers.conf');
  return '/etc/tsdock/containers.conf';
}

export function networkConfig(env: NodeJS.ProcessEnv): NetworkConfig {
  const file = containersConfPath(env);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return DEFAULT_NETWORK_CONFIG;
  }
  let net: Record<string, unknown>;
  try {
    net = ((parse(text) as Record<string, unknown>).network ?? {}) as Record<string, unknown>;
  } catch (err) {
    throw new TsdockError(`${file}: ${(err as Error).message.split('\n')[0]}`, { cause: err });
  }
  const pools = Array.isArray(net.default_subnet_pools)
    ? (net.default_subnet_pools as Array<Record<string, unknown>>).map((p) => ({ base: String(p.base), size: Number(p.size) }))
    : DEFAULT_NETWORK_CONFIG.pools;
  const cmd = net.default_rootless_network_cmd ?? DEFAULT_NETWORK_CONFIG.rootlessCmd;
  if (cmd !== 'pasta' && cmd !== 'slirp4netns') throw new TsdockError(`${file}: default_rootless_network_cmd "${String(cmd)}": pasta or slirp4netns expected`);
  return { defaultSubnet: typeof net.default_subnet === 'string' ? net.default_subnet : DEFAULT_NETWORK_CONFIG.defaultSubnet, pools, rootlessCmd: cmd };
}
