import path from 'node:path';
import { parseRegistriesConf, registriesConfPath } from '../../config/registries.js';
import { result, type Check, type CheckResult } from '../types.js';

/** registries.conf parses; every docker-credential-* helper ~/.docker/config.json names is on PATH. */
export const checkRegistries: Check = (host, subject) => {
  const out: CheckResult[] = [];
  const file = registriesConfPath(subject.env);
  const text = host.read(file);
  if (text === undefined) out.push(result('registries.conf', 'PASS', `${file} not present: docker.io is the default`));
  else {
    try {
      parseRegistriesConf(text, file);
      out.push(result('registries.conf', 'PASS', `${file} parses`));
    } catch (err) {
      out.push(result('registries.conf', 'FAIL', `${(err as Error).message}: pulls of every image fail`, `fix the TOML in ${file}`));
    }
  }
  const home = subject.env.HOME;
  const configFile = subject.env.DOCKER_CONFIG ? path.join(subject.env.DOCKER_CONFIG, 'config.json') : home ? path.join(home, '.docker', 'config.json') : undefined;
  const raw = configFile ? host.read(configFile) : undefined;
  if (raw === undefined) return out;
  let config: { credsStore?: unknown; credHelpers?: Record<string, unknown> };
  try {
    config = JSON.parse(raw) as typeof config;
  } catch (err) {
    out.push(result('credential helpers', 'FAIL', `${configFile} is not valid JSON (${(err as Error).message}): logins cannot be read`, `fix or remove ${configFile}`));
    return out;
  }
  const helpers = new Set<string>();
  if (typeof config.credsStore === 'string' && config.credsStore) helpers.add(config.credsStore);
  for (const h of Object.values(config.credHelpers ?? {})) if (typeof h === 'string' && h) helpers.add(h);
  if (!helpers.size) return out;
  const missing = [...helpers].filter((h) => !host.which(`docker-credential-${h}`));
  out.push(missing.length
    ? result('credential helpers', 'FAIL', `${configFile} names ${missing.map((h) => `docker-credential-${h}`).join(', ')}, not found on PATH: pulls from those registries cannot log in`, `install ${missing.map((h) => `docker-credential-${h}`).join(', ')} on PATH, or remove them from ${configFile}`)
    : result('credential helpers', 'PASS', [...helpers].map((h) => `docker-credential-${h}`).join(', ')));
  return out;
};
