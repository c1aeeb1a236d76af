/**
 * `tsdock build` (also `image build`, `buildx build`): the Dockerfile's stages built into an image.
 * The steps: check the platform, read the Dockerfile (a file, or its text from stdin) and the context's
 * .dockerignore, parse, run the build (src/build plans and executes the steps; RUN's containers come from
 * build-run.ts, behind this api), record the image and its tags, write --iidfile.
 */
import { imageEvent } from '../image/events.js';
import fs from 'node:fs';
import path from 'node:path';
import type { Context } from '../context.js';
import { TsdockError, UsageError, cleanupFailed } from '../errors.js';
import { makeTmpDir, removeTree } from '../storage/tmp.js';
import { downloadContext, fetchGitContext, parseRemoteContext } from '../build/context/remote.js';
export { isRemoteContext } from '../build/context/remote.js';
import { ImageStore } from '../image/store/images.js';
import { recordImage } from '../image/commit-image.js';
import { formatPlatform, hostPlatform, normalizePlatform, parsePlatform } from '../image/manifest.js';
import { formatReference, parseReference } from '../image/reference.js';
import { acquireLock } from '../state/lock.js';
import { tracer } from '../trace.js';
import { ContextMatcher, loadIgnoreFile } from '../build/context/ignore.js';
import { parseDockerfile } from '../build/dockerfile/parse.js';
import { runBuild, unusedBuildArgs } from '../build/builder/build.js';
import { containerRunner, sweepBuildContainers } from './build-run.js';

export interface BuildOptions {
  /** the context directory (ignored with `contextStdin`) */
  contextDir: string;
  /** `build -`: stdin's bytes, a context tar or a Dockerfile */
  contextStdin?: Buffer;
  /** `build URL`: a Git repository (`#ref:subdir`) or a URL to a context tar or a Dockerfile (build/context/remote.ts) */
  contextUrl?: string;
  /** `-f`: the Dockerfile's path (relative to the caller's cwd); default `<context>/Dockerfile` */
  dockerfile?: string;
  /** `-f -`: the Dockerfile's text */
  dockerfileText?: string;
  tags: string[];
  buildArgs: Record<string, string>;
  target?: string;
  noCache?: boolean;
  pull?: boolean;
  labels: Record<string, string>;
  /** `--secret id=ID,src=FILE`: id → file, for RUN --mount=type=secret */
  secrets?: Record<string, string>;
  /** `--ssh ID[=SOCKET]`: id → an SSH agent's socket, for RUN --mount=type=ssh */
  ssh?: Record<string, string>;
  /** RUN's network mode (default host) */
  network?: string;
  platform?: string;
  iidfile?: string;
  /** RUN output discarded */
  quiet?: boolean;
  /** RUN output reported as `build-output` progress events instead of written to ctx's stdout/stderr (the tty view) */
  reportOutput?: boolean;
  /** SOURCE_DATE_EPOCH (seconds): fixed `created` times, clamped file mtimes */
  sourceDateEpoch?: number;
  /** `--rewrite-timestamp`: RUN layers' mtimes clamped to the source date epoch too */
  rewriteTimestamp?: boolean;
  tlsVerify?: boolean;
}

export interface BuildResult {
  id: string;
  tags: string[];
}

export async function buildImage(opts: BuildOptions, ctx: Context): Promise<BuildResult> {
  if (opts.contextStdin === undefined && opts.contextUrl === undefined) return buildFrom(opts, ctx);
  if (opts.contextStdin !== undefined && opts.dockerfileText !== undefined) throw new UsageError('build: invalid argument: can\'t use stdin for both build context and dockerfile', { exitCode: 1 });
  // `build -` and `build URL`: the context made in a work dir of the store (a kill -9 leaves it to the tmp sweep)
  const dir = await makeTmpDir(ctx.root, 'context');
  try {
    let contextDir = dir;
    let dockerfileText = opts.dockerfileText;
    const remote = opts.contextUrl === undefined ? undefined : parseRemoteContext(opts.contextUrl);
    if (remote?.kind === 'git') contextDir = await fetchGitContext(remote.git, dir, ctx.signal);
    else {
      const bytes = remote ? await downloadContext(remote.url, ctx.signal) : opts.contextStdin!;
      // loaded only for a context given as a tar: the tar reader and decompressors are no cost of a directory's build
      const { contextFromStdin } = await import('../build/context/stdin.js');
      dockerfileText = (await contextFromStdin(bytes, dir, ctx.rootful)).dockerfileText ?? dockerfileText;
    }
    // -f names a file of the context
    const dockerfile = opts.dockerfile === undefined ? undefined : path.join(contextDir, path.posix.normalize(`/${opts.dockerfile}`));
    return await buildFrom({ ...opts, contextDir, ...(dockerfileText !== undefined ? { dockerfileText } : {}), dockerfile }, ctx);
  } finally {
    await removeTree(dir).catch(cleanupFailed(ctx, `remove ${dir}`));
  }
}

async function buildFrom(opts: BuildOptions, ctx: Context): Promise<BuildResult> {
  const trace = tracer(ctx.env, () => ctx.stderr);
  trace.mark('node + cli loaded');
  // 1. only the host's platform can be built (no emulation)
  if (opts.platform) {
    const want = normalizePlatform(parsePlatform(opts.platform));
    const host = hostPlatform();
    if (want.os !== host.os || want.architecture !== host.architecture || (want.variant ?? '') !== (host.variant ?? '')) {
      throw new UsageError(`build: platform ${formatPlatform(want)} is not supported: tsdock builds for the host platform ${formatPlatform(host)} only`);
    }
  }
  if (opts.rewriteTimestamp && opts.sourceDateEpoch === undefined) throw new UsageError('build: --rewrite-timestamp needs a source date epoch (--source-date-epoch or SOURCE_DATE_EPOCH)', { exitCode: 1 });
  const tags = opts.tags.map((t) => {
    const ref = parseReference(t);
    if (ref.digest) throw new UsageError(`invalid tag ${JSON.stringify(t)}: a tag cannot carry a digest`);
    return formatReference(ref);
  });
  // 2. the context, the Dockerfile and its ignore file
  const contextDir = path.resolve(ctx.cwd, opts.contextDir);
  if (!fs.statSync(contextDir, { throwIfNoEntry: false })?.isDirectory()) throw new UsageError(`build: unable to prepare context: path ${JSON.stringify(opts.contextDir)} not found`);
  const dockerfilePath = opts.dockerfile ? path.resolve(ctx.cwd, opts.dockerfile) : path.join(contextDir, 'Dockerfile');
  let source = opts.dockerfileText;
  if (source === undefined) {
    try {
      source = fs.readFileSync(dockerfilePath, 'utf8');
    } catch (err) {
      throw new UsageError(`build: cannot read the Dockerfile ${dockerfilePath}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
    }
  }
  const inContext = opts.dockerfileText === undefined && !path.relative(contextDir, dockerfilePath).startsWith('..');
  const ignore = await loadIgnoreFile(contextDir, opts.dockerfileText === undefined ? dockerfilePath : undefined);
  const matcher = new ContextMatcher(ignore.patterns, inContext ? path.relative(contextDir, dockerfilePath) : undefined);
  // 3. parse
  const dockerfile = parseDockerfile(source);
  trace.mark('dockerfile parsed');
  const unused = unusedBuildArgs(dockerfile, opts.buildArgs);
  if (unused.length) ctx.warn?.(`one or more build-args [${unused.join(' ')}] were not consumed`);
  // 4. build (after removing the containers a killed build left), with layers.lock shared throughout: no GC takes a layer before the cache or an image references it
  const store = new ImageStore(ctx.root);
  await sweepBuildContainers(ctx);
  const lock = await acquireLock(store.lockPath('layers'), 'shared');
  trace.mark('swept, layers.lock');
  try {
    const state = await runBuild({
      store,
      dockerfile,
      source,
      contextDir,
      matcher,
      buildArgs: opts.buildArgs,
      target: opts.target,
      noCache: Boolean(opts.noCache),
      pull: Boolean(opts.pull),
      network: opts.network || 'host',
      labels: opts.labels,
      secrets: secretFiles(opts.secrets ?? {}, ctx.cwd),
      ssh: agentSockets(opts.ssh ?? {}, ctx.cwd),
      runner: containerRunner(ctx, { output: opts.quiet ? 'discard' : opts.reportOutput ? 'report' : 'inherit', ...(opts.rewriteTimestamp ? { clampMtime: opts.sourceDateEpoch } : {}) }),
      ...(opts.sourceDateEpoch !== undefined ? { epoch: opts.sourceDateEpoch } : {}),
      tlsVerify: opts.tlsVerify,
    }, ctx);
    trace.mark('stages built');
    // 5. the image and its tags
    let id = await recordImage(store, state.config, [...state.layers], tags[0]);
    for (const t of tags.slice(1)) id = await recordImage(store, state.config, [...state.layers], t);
    trace.mark('image recorded');
    // podman's event (docker's builder reports only the tags)
    imageEvent(ctx.root, 'build', id, tags[0] ?? id);
    // 6. --iidfile
    if (opts.iidfile) {
      try {
        fs.writeFileSync(opts.iidfile, id);
      } catch (err) {
        throw new TsdockError(`build: writing the image id to ${opts.iidfile}: ${(err as Error).message}`, { exitCode: 1 });
      }
    }
    return { id, tags };
  } finally {
    lock.release();
  }
}

/** The secrets' files, absolute, each checked to be a readable regular file before anything runs. */
function secretFiles(secrets: Record<string, string>, cwd: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [id, file] of Object.entries(secrets)) {
    const abs = path.resolve(cwd, file);
    if (!fs.statSync(abs, { throwIfNoEntry: false })?.isFile()) throw new UsageError(`build: secret ${id}: ${file} is not a file`, { exitCode: 1 });
    out[id] = abs;
  }
  return out;
}

/** The agents' sockets, absolute, each checked to be a socket before anything runs. */
function agentSockets(ssh: Record<string, string>, cwd: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [id, sock] of Object.entries(ssh)) {
    const abs = path.resolve(cwd, sock);
    if (!fs.statSync(abs, { throwIfNoEntry: false })?.isSocket()) throw new UsageError(`build: --ssh ${id}: ${sock} is not an SSH agent's socket`, { exitCode: 1 });
    out[id] = abs;
  }
  return out;
}

export { familiarTag } from './rmi.js';
