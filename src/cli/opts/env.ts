/**
 * `-e` and `--env-file` as docker's CLI reads them (docker/cli opts/env.go, opts/file.go): the CLI resolves a bare
 * `K` from the caller's environment and reads the files; the request's Env gets the result.
 */
import fs from 'node:fs';
import path from 'node:path';
import { UsageError } from '../../errors.js';

export type HostEnv = Readonly<Record<string, string | undefined>>;

/** An `--env-file`'s content, with the file's path for error messages. */
export interface EnvFileContent {
  path: string;
  content: string;
}

/**
 * `-e VALUE` as the docker CLI reads it: `K=V` as is; a bare `K` takes the caller's `K` when set, else stays a
 * bare `K`, which mergeEnv reads as "unset K" (docker's rule: it also removes an image-defined K).
 */
export function parseEnvFlag(value: string, hostEnv: HostEnv): string {
  const eq = value.indexOf('=');
  const key = eq < 0 ? value : value.slice(0, eq);
  if (key === '') throw new UsageError(`invalid environment variable: ${value}`);
  if (eq >= 0) return value;
  const host = hostEnv[key];
  return host === undefined ? key : `${key}=${host}`;
}

/**
 * An env file as docker reads it (docker/cli opts/file.go): a leading BOM dropped; each line's leading blanks
 * trimmed; empty lines and lines starting with `#` skipped; `K=V` kept verbatim (no quote handling, the value
 * is not trimmed); a bare `K` takes the caller's value or stays bare (= unset, see parseEnvFlag).
 * A name with a blank in it, or an empty name, is an error.
 */
export function parseEnvFile(content: string, hostEnv: HostEnv, source?: string): string[] {
  const out: string[] = [];
  const lines = content.replace(/^\uFEFF/, '').split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  for (const raw of lines) {
    const line = raw.replace(/\r$/, '').trimStart();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    const variable = (eq < 0 ? line : line.slice(0, eq)).replace(/^[ \t]+/, '');
    const where = source ? `${source}: ` : '';
    if (/[ \t]/.test(variable)) throw new UsageError(`${where}poorly formatted environment: variable '${variable}' contains whitespaces`);
    if (variable === '') throw new UsageError(`${where}poorly formatted environment: no variable name on line '${line}'`);
    if (eq >= 0) {
      out.push(`${variable}=${line.slice(eq + 1)}`);
    } else {
      const host = hostEnv[variable];
      out.push(host === undefined ? variable : `${variable}=${host}`);
    }
  }
  return out;
}

/**
 * The user-given environment in docker's precedence: every `--env-file` in order, then every `-e` (so `-e`
 * wins, as `ReadKVEnvStrings(files, flags)` in the docker CLI). Entries keep bare `K` markers.
 */
export function userEnvironment(opts: { env?: readonly string[]; envFiles?: readonly (string | EnvFileContent)[]; hostEnv: HostEnv }): string[] {
  const out: string[] = [];
  for (const file of opts.envFiles ?? []) {
    if (typeof file === 'string') out.push(...parseEnvFile(file, opts.hostEnv));
    else out.push(...parseEnvFile(file.content, opts.hostEnv, file.path));
  }
  for (const value of opts.env ?? []) out.push(parseEnvFlag(value, opts.hostEnv));
  return out;
}


/** The `--env-file`s (paths relative to `cwd`), read as docker's CLI reads them, then the `-e` values. */
export function requestEnv(flags: { env: readonly string[]; envFile: readonly string[] }, caller: { cwd: string; env: HostEnv }): string[] {
  const envFiles = flags.envFile.map((f) => {
    try {
      return { path: f, content: fs.readFileSync(path.resolve(caller.cwd, f), 'utf8') };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new UsageError(`open ${f}: ${code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`);
    }
  });
  return userEnvironment({ env: flags.env, envFiles, hostEnv: caller.env });
}
