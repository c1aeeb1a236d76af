/**
 * `tsdock build URL`: docker's remote contexts. A Git repository (`git://…`, `git@…`, `github.com/…`, or an
 * http(s) URL ending in `.git`, each with an optional `#ref:subdir` fragment) is fetched with git, at the ref's
 * one commit where the server allows it, and its subdirectory is the context, without `.git` (BuildKit's default).
 * Any other http(s) URL is downloaded: a tar archive (plain, gzip or zstd) is the context, anything else the
 * Dockerfile itself (docker's rule, as for `build -`).
 */
import fs from 'node:fs';
import path from 'node:path';
import { TsdockError, UsageError } from '../../errors.js';
import { readBody, request, type HttpResponse } from '../../image/registry/http.js';

export interface GitContext {
  url: string;
  /** a branch, tag or commit; default: the remote's HEAD */
  ref?: string;
  /** the context's directory inside the repository; default its top */
  subdir?: string;
}

export type RemoteContext = { kind: 'git'; git: GitContext } | { kind: 'url'; url: string };

/** whether a build's context argument names a remote context rather than a local path */
export function isRemoteContext(arg: string): boolean {
  return /^(https?|git):\/\//.test(arg) || arg.startsWith('git@') || arg.startsWith('github.com/');
}

/** docker's classification (cli's urlutil.IsGitURL, IsURL) and fragment (`#ref:subdir`) */
export function parseRemoteContext(arg: string): RemoteContext {
  const hash = arg.indexOf('#');
  const base = hash < 0 ? arg : arg.slice(0, hash);
  const fragment = hash < 0 ? '' : arg.slice(hash + 1);
  const isGit = /^git:\/\//.test(base) || base.startsWith('git@') || base.startsWith('github.com/') || (/^https?:\/\//.test(base) && /\.git$/.test(base));
  if (!isGit) {
    if (!/^https?:\/\//.test(arg)) throw new UsageError(`build: unable to prepare context: ${JSON.stringify(arg)} is not a URL`);
    return { kind: 'url', url: arg };
  }
  const url = base.startsWith('github.com/') ? `https://${base}` : base;
  const colon = fragment.indexOf(':');
  const ref = colon < 0 ? fragment : fragment.slice(0, colon);
  const subdir = colon < 0 ? '' : fragment.slice(colon + 1);
  if (subdir && (path.posix.isAbsolute(subdir) || path.posix.normalize(subdir).split('/').includes('..'))) {
    throw new UsageError(`build: unable to prepare context: subdirectory ${JSON.stringify(subdir)} is outside the repository`);
  }
  return { kind: 'git', git: { url, ...(ref ? { ref } : {}), ...(subdir ? { subdir: path.posix.normalize(subdir) } : {}) } };
}

async function git(args: string[], cwd: string, signal: AbortSignal | undefined, what: string): Promise<void> {
  const { execa } = await import('execa');
  // no prompt for credentials (a CI job would hang), no system or user config deciding for us
  const env = { GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', PATH: process.env.PATH ?? '/usr/bin:/bin' };
  const r = await execa('git', args, { cwd, env, extendEnv: false, reject: false, stdin: 'ignore', ...(signal ? { cancelSignal: signal } : {}) });
  if ((r as { code?: string }).code === 'ENOENT') throw new TsdockError('build: git is not installed: needed to fetch a Git build context (apt-get install git)');
  if (r.exitCode !== 0) {
    const msg = String(r.stderr || r.stdout || r.shortMessage).trim().split('\n').pop()!.slice(0, 300);
    throw new TsdockError(`build: unable to prepare context: ${what}: ${msg}`);
  }
}

/**
 * The repository's `ref` checked out in `dir` (an empty work dir of the caller's); returns the context directory.
 * One commit is fetched where the server allows shallow fetches (git's smart protocols), else the whole history.
 */
export async function fetchGitContext(g: GitContext, dir: string, signal?: AbortSignal): Promise<string> {
  const ref = g.ref ?? 'HEAD';
  const commit = g.ref !== undefined && /^[0-9a-f]{7,40}$/.test(g.ref);
  await git(['init', '--quiet', '.'], dir, signal, 'git init');
  await git(['remote', 'add', 'origin', g.url], dir, signal, 'git remote add');
  let checkout = 'FETCH_HEAD';
  try {
    await git(['fetch', '--quiet', '--depth', '1', 'origin', ref], dir, signal, `fetching ${ref} from ${g.url}`);
  } catch (err) {
    if (signal?.aborted) throw err;
    // a dumb http server sends no shallow pack, and a server may refuse a commit id as a want: the whole history
    if (commit) {
      await git(['fetch', '--quiet', '--tags', 'origin', '+refs/heads/*:refs/remotes/origin/*'], dir, signal, `fetching ${g.url}`);
      checkout = g.ref!;
    } else await git(['fetch', '--quiet', 'origin', ref], dir, signal, `fetching ${ref} from ${g.url}`);
  }
  await git(['checkout', '--quiet', '--detach', checkout], dir, signal, `checking out ${ref}`);
  await git(['submodule', 'update', '--init', '--recursive', '--quiet'], dir, signal, 'fetching submodules');
  fs.rmSync(path.join(dir, '.git'), { recursive: true, force: true });
  const top = fs.realpathSync(dir);
  const context = g.subdir ? path.join(dir, g.subdir) : dir;
  const real = fs.existsSync(context) ? fs.realpathSync(context) : undefined;
  if (!real || !fs.statSync(real).isDirectory()) throw new UsageError(`build: unable to prepare context: subdirectory ${g.subdir} not found in ${g.url}`);
  if (real !== top && !real.startsWith(top + path.sep)) throw new UsageError(`build: unable to prepare context: subdirectory ${g.subdir} leaves the repository`);
  return real;
}

/** the most a URL context may be (docker reads it whole too) */
const MAX_URL_CONTEXT = 1 << 30;

/** A URL's body: the context tar, or a Dockerfile (contextFromStdin tells which). */
export async function downloadContext(url: string, signal?: AbortSignal): Promise<Buffer> {
  let res: HttpResponse;
  try {
    res = await request({ url, ...(signal ? { signal } : {}) });
  } catch (err) {
    if (signal?.aborted) throw err;
    throw new TsdockError(`build: unable to prepare context: downloading ${url}: ${(err as Error).message}`);
  }
  if (res.status < 200 || res.status > 299) {
    res.body.resume();
    throw new TsdockError(`build: unable to prepare context: downloading ${url}: HTTP ${res.status} ${res.body.statusMessage ?? ''}`.trimEnd());
  }
  try {
    return await readBody(res, MAX_URL_CONTEXT, url);
  } catch (err) {
    if (signal?.aborted) throw err;
    throw new TsdockError(`build: unable to prepare context: ${(err as Error).message.replace(/ is too large: .*/, ' is over the 1 GiB limit')}`);
  }
}
