/**
 * registries.conf (containers-registries.conf(5)). Read from `$TSDOCK_REGISTRIES_CONF` when set, else (rootless)
 * `${XDG_CONFIG_HOME:-~/.config}/containers/registries.conf` when it exists, else
 * `/etc/containers/registries.conf`. A missing file means defaults. tsdock reads:
 *   - `unqualified-search-registries` (only its first entry is used for short names, see image/reference.ts)
 *   - `[[registry]]` tables: `prefix`, `location`, `insecure`, `blocked` (mirrors are ignored)
 *   - the V1 tables `[registries.search|insecure|block] registries = [...]`
 * Drop-in directories (registries.conf.d) and short-name aliases are not read.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { UsageError } from '../errors.js';

export interface RegistryEntry {
  /** what references it applies to: `host`, `host/ns`, or `*.domain` */
  prefix: string;
  location: string;
  insecure: boolean;
  blocked: boolean;
}

export interface RegistriesConf {
  /** the file that was read, if any */
  path?: string;
  unqualifiedSearchRegistries: string[];
  registries: RegistryEntry[];
}

export const SYSTEM_REGISTRIES_CONF = '/etc/containers/registries.conf';

export function defaultRegistriesConf(): RegistriesConf {
  return { unqualifiedSearchRegistries: [], registries: [] };
}

/** Which registries.conf applies for this environment (the file need not exist). */
export function registriesConfPath(env: NodeJS.ProcessEnv): string {
  if (env.TSDOCK_REGISTRIES_CONF) return env.TSDOCK_REGISTRIES_CONF;
  // a rootless user inside their user namespace is uid 0 there (TSDOCK_USERNS): still their own file
  if (process.getuid?.() !== 0 || env.TSDOCK_USERNS) {
    const configHome = env.XDG_CONFIG_HOME || path.join(env.HOME || os.homedir(), '.config');
    const user = path.join(configHome, 'containers', 'registries.conf');
    if (fs.existsSync(user)) return user;
  }
  return SYSTEM_REGISTRIES_CONF;
}

export function loadRegistriesConf(env: NodeJS.ProcessEnv): RegistriesConf {
  const file = registriesConfPath(env);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return defaultRegistriesConf();
    throw new UsageError(`cannot read registries configuration ${file}: ${(err as Error).message}`, { cause: err });
  }
  return parseRegistriesConf(text, file);
}

export function parseRegistriesConf(text: string, file = 'registries.conf'): RegistriesConf {
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(withoutCommentLines(text)) as Record<string, unknown>;
  } catch (err) {
    const first = (err as Error).message.split('\n')[0];
    throw new UsageError(`invalid registries configuration ${file}: ${first}`, { cause: err });
  }
  const bad = (what: string): UsageError => new UsageError(`invalid registries configuration ${file}: ${what}`);
  const stringList = (value: unknown, key: string): string[] => {
    if (value === undefined) return [];
    if (!Array.isArray(value) || value.some((v) => typeof v !== 'string')) throw bad(`${key} must be a list of strings`);
    return value as string[];
  };
  const conf: RegistriesConf = { path: file, unqualifiedSearchRegistries: [], registries: [] };
  conf.unqualifiedSearchRegistries = stringList(doc['unqualified-search-registries'], 'unqualified-search-registries');

  const tables = doc.registry;
  if (tables !== undefined && !Array.isArray(tables)) throw bad('registry must be an array of tables ([[registry]])');
  for (const [i, raw] of ((tables as unknown[] | undefined) ?? []).entries()) {
    if (raw === null || typeof raw !== 'object') throw bad(`registry[${i}] must be a table`);
    const t = raw as Record<string, unknown>;
    for (const key of ['prefix', 'location'] as const) {
      if (t[key] !== undefined && typeof t[key] !== 'string') throw bad(`registry[${i}].${key} must be a string`);
    }
    for (const key of ['insecure', 'blocked'] as const) {
      if (t[key] !== undefined && typeof t[key] !== 'boolean') throw bad(`registry[${i}].${key} must be true or false`);
    }
    const location = (t.location as string | undefined) ?? '';
    const prefix = (t.prefix as string | undefined) || location;
    if (!prefix) throw bad(`registry[${i}] needs a location or a prefix`);
    conf.registries.push({ prefix, location: location || prefix, insecure: t.insecure === true, blocked: t.blocked === true });
  }

  // V1 format
  const v1 = doc.registries as Record<string, { registries?: unknown }> | undefined;
  if (v1 !== undefined) {
    if (typeof v1 !== 'object' || v1 === null) throw bad('registries must be a table');
    conf.unqualifiedSearchRegistries.push(...stringList(v1.search?.registries, 'registries.search.registries'));
    for (const host of stringList(v1.insecure?.registries, 'registries.insecure.registries')) upsert(conf, host).insecure = true;
    for (const host of stringList(v1.block?.registries, 'registries.block.registries')) upsert(conf, host).blocked = true;
  }
  return conf;
}

function upsert(conf: RegistriesConf, prefix: string): RegistryEntry {
  let entry = conf.registries.find((r) => r.prefix === prefix);
  if (!entry) {
    entry = { prefix, location: prefix, insecure: false, blocked: false };
    conf.registries.push(entry);
  }
  return entry;
}

/** Does `prefix` (`host`, `host/ns`, `*.domain`) cover the name `host/repository`? */
function prefixMatches(prefix: string, name: string): boolean {
  if (prefix.startsWith('*.')) {
    const host = name.split('/')[0]!;
    return host.endsWith(prefix.slice(1));
  }
  return name === prefix || name.startsWith(`${prefix}/`);
}

/** The [[registry]] entry that applies to `host[/repository]`: the longest matching prefix. */
export function findRegistry(conf: RegistriesConf, name: string): RegistryEntry | undefined {
  let best: RegistryEntry | undefined;
  for (const entry of conf.registries) {
    if (!prefixMatches(entry.prefix, name)) continue;
    if (!best || entry.prefix.length > best.prefix.length) best = entry;
  }
  return best;
}

/** Is this registry host marked insecure (plain http / unverified TLS allowed)? */
export function isInsecure(conf: RegistriesConf, host: string): boolean {
  return conf.registries.some((r) => (r.location === host || prefixMatches(r.prefix, host)) && r.insecure);
}

/** Is pulling `host/repository` blocked? */
export function isBlocked(conf: RegistriesConf, host: string, repository?: string): boolean {
  return findRegistry(conf, repository ? `${host}/${repository}` : host)?.blocked ?? false;
}

/**
 * The text with its whole-line comments emptied (line numbers kept for messages): the distribution's file is
 * mostly comments, and skipping them one character at a time is most of its parse in a CLI that has not warmed
 * up. A text with multi-line strings, where such a line could be content, is left as it is.
 */
function withoutCommentLines(text: string): string {
  return text.includes('"""') || text.includes("'''") ? text : text.replace(/^[ \t]*#.*$/gm, '');
}
