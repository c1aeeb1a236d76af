import fs from 'node:fs';
import { Command, Option } from 'commander';
import type { CliContext } from '../context.js';
import type { BuildOptions } from '../../api/build.js';
import { UsageError } from '../../errors.js';
import { buildProgress } from '../render/build-progress.js';
import { buildTtyView } from '../render/build-tty.js';
import { collect } from '../opts/flags.js';
import { keyValues } from '../opts/values.js';

interface BuildFlags {
  tag: string[];
  file?: string;
  buildArg: string[];
  target?: string;
  cache: boolean;
  pull?: boolean;
  label: string[];
  network?: string;
  platform?: string;
  iidfile?: string;
  quiet?: boolean;
  progress: 'auto' | 'plain' | 'tty' | 'quiet';
  secret: string[];
  ssh: string[];
  sourceDateEpoch?: string;
  rewriteTimestamp?: boolean;
}

/** `--secret id=ID,src=FILE` (also `source=`, docker's `type=file`); the id defaults to the file's name. */
function secretSpecs(list: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const spec of list) {
    const f = Object.fromEntries(spec.split(',').map((kv) => [kv.slice(0, kv.indexOf('=') < 0 ? kv.length : kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
    const src = f.src ?? f.source;
    if (f.type !== undefined && f.type !== 'file') throw new UsageError(`invalid --secret ${JSON.stringify(spec)}: only type=file is supported`);
    if (!src) throw new UsageError(`invalid --secret ${JSON.stringify(spec)}: src=FILE is required`);
    out[f.id ?? src.split('/').pop()!] = src;
  }
  return out;
}

/** `--progress`: auto is the live view when stdout and stderr are both a terminal (TERM not dumb), else plain. */
function viewMode(progress: BuildFlags['progress'], cli: CliContext): 'tty' | 'plain' {
  const terminal = Boolean(cli.stdout.isTTY && cli.stderr.isTTY) && cli.env.TERM !== 'dumb';
  if (progress === 'tty' && !cli.stderr.isTTY) throw new UsageError('build: --progress=tty needs a terminal on stderr');
  return progress === 'tty' || (progress === 'auto' && terminal) ? 'tty' : 'plain';
}

/**
 * `--ssh default|ID[=SOCKET]`: the agent sockets RUN --mount=type=ssh may use, by id; without a socket, the
 * caller's $SSH_AUTH_SOCK. Only agent sockets: docker's key files (`ID=KEYFILE`) would need an agent of our own.
 */
function sshSockets(list: string[], env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {};
  for (const spec of list) {
    const eq = spec.indexOf('=');
    const id = eq < 0 ? spec : spec.slice(0, eq);
    const paths = eq < 0 ? [] : spec.slice(eq + 1).split(',').filter(Boolean);
    if (!id) throw new UsageError(`invalid --ssh ${JSON.stringify(spec)}: expected ID[=SOCKET]`);
    if (paths.length > 1) throw new UsageError(`invalid --ssh ${JSON.stringify(spec)}: one agent socket per id (key files are not supported)`);
    const sock = paths[0] ?? env.SSH_AUTH_SOCK;
    if (!sock) throw new UsageError(`--ssh ${spec}: SSH_AUTH_SOCK is not set: no agent to forward (start ssh-agent, or give ${id}=SOCKET)`);
    out[id] = sock;
  }
  return out;
}

function epochOf(flag: string | undefined, env: NodeJS.ProcessEnv): number | undefined {
  const v = flag ?? env.SOURCE_DATE_EPOCH;
  if (v === undefined || v === '') return undefined;
  if (!/^\d+$/.test(v)) throw new UsageError(`invalid source date epoch ${JSON.stringify(v)}: expected seconds since the epoch`);
  return Number(v);
}

/** `build`, `image build`, `buildx build`: flags → BuildOptions → api → the step lines, tags and id. */
export function register(parent: Command, cli: CliContext, name = 'build'): void {
  parent
    .command(name)
    .description('Build an image from a Dockerfile')
    .argument('<path>', 'the build context: a directory; - for a tar archive (or a lone Dockerfile) on stdin; a Git URL (git://, git@, https://….git, with #ref:subdir); or a URL to a tar archive or a Dockerfile')
    .option('-t, --tag <name>', 'Name and optionally a tag (format: "name:tag")', collect, [])
    .option('-f, --file <path>', 'Name of the Dockerfile (default: "PATH/Dockerfile"; "-" reads it from stdin)')
    .option('--build-arg <arg>', 'Set build-time variables (NAME=VALUE, or NAME to take it from the environment)', collect, [])
    .option('--target <stage>', 'Set the target build stage to build')
    .option('--no-cache', 'Do not use cache when building the image')
    .option('--pull', 'Always attempt to pull a newer version of the base images')
    .option('--label <label>', 'Set metadata for an image (KEY=VALUE)', collect, [])
    .option('--secret <spec>', 'Secret to expose to RUN --mount=type=secret (id=ID,src=FILE)', collect, [])
    .option('--ssh <spec>', 'SSH agent socket to expose to RUN --mount=type=ssh (default|ID[=SOCKET], default $SSH_AUTH_SOCK)', collect, [])
    .option('--network <mode>', 'Set the networking mode for the RUN instructions (default "host")')
    .option('--platform <platform>', 'Set the target platform (the host platform only)')
    .option('--iidfile <file>', 'Write the image ID to the file')
    .option('-q, --quiet', 'Suppress the build output and print image ID on success')
    .addOption(new Option('--progress <type>', 'Type of progress output').choices(['auto', 'plain', 'tty', 'quiet']).default('auto'))
    .option('--source-date-epoch <seconds>', 'Timestamp for reproducible builds (default: $SOURCE_DATE_EPOCH)')
    .option('--rewrite-timestamp', 'Clamp the mtimes of the RUN layers\' files to the source date epoch too')
    .action(async (contextDir: string, o: BuildFlags) => {
      const quiet = Boolean(o.quiet) || o.progress === 'quiet';
      // loaded only when a build runs: `image ls` registers this verb too, and must not pay for the builder
      const { buildImage, familiarTag, isRemoteContext } = await import('../../api/build.js');
      const opts: BuildOptions = {
        contextDir,
        ...(contextDir === '-' ? { contextStdin: fs.readFileSync(0) } : isRemoteContext(contextDir) ? { contextUrl: contextDir } : {}),
        ...(o.file === '-' ? { dockerfileText: fs.readFileSync(0, 'utf8') } : o.file ? { dockerfile: o.file } : {}),
        tags: o.tag,
        buildArgs: keyValues(o.buildArg, { env: cli.env, flag: '--build-arg' }),
        target: o.target,
        noCache: !o.cache,
        pull: o.pull,
        labels: keyValues(o.label, { flag: '--label' }),
        secrets: secretSpecs(o.secret),
        ssh: sshSockets(o.ssh, cli.env),
        network: o.network,
        platform: o.platform,
        iidfile: o.iidfile,
        quiet,
        sourceDateEpoch: epochOf(o.sourceDateEpoch, cli.env),
        rewriteTimestamp: o.rewriteTimestamp,
      };
      // SIGINT aborts every verb (main.ts); a build also stops on SIGTERM and SIGHUP, its RUN container removed
      for (const sig of ['SIGTERM', 'SIGHUP'] as const) process.once(sig, () => cli.abort.abort(new Error('terminated')));
      const ctx = cli.api();
      const view = quiet ? undefined : viewMode(o.progress, cli) === 'tty' ? await buildTtyView(cli) : undefined;
      ctx.progress = view ? (e) => view.onEvent(e) : buildProgress(cli, quiet ? 'quiet' : 'plain');
      if (view) opts.reportOutput = true;
      let r;
      try {
        r = await buildImage(opts, ctx);
      } finally {
        view?.finish(r === undefined);
      }
      if (quiet) {
        cli.out(r.id);
        return;
      }
      const hex = r.id.replace(/^sha256:/, '');
      if (r.tags.length) cli.out(`COMMIT ${familiarTag(r.tags[0]!)}`);
      cli.out(`--> ${hex.slice(0, 12)}`);
      for (const t of r.tags) cli.out(`Successfully tagged ${familiarTag(t)}`);
      cli.out(hex);
    });
}
