import path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import type { Context } from '../context.js';
import { UsageError } from '../errors.js';
import { withContainerRoot } from '../container/root-access.js';
import { copyOutToHost, copyOutToTar } from '../container/copy-out.js';
import { copyHostIn, copyTarIn } from '../container/copy-in.js';

export interface CopyOptions {
  /** keep uid/gid (docker's -a) */
  archive?: boolean;
  /** follow a symlink named as the source (docker's -L) */
  followLink?: boolean;
}

/** `CONTAINER:PATH` → {container, path}; undefined for a host path (docker: a colon before any slash). */
export function splitCopyArg(arg: string): { container: string; path: string } | undefined {
  if (arg.startsWith('/') || arg.startsWith('.')) return undefined;
  const i = arg.indexOf(':');
  if (i <= 0) return undefined;
  const head = arg.slice(0, i);
  if (head.includes('/')) return undefined;
  return { container: head, path: arg.slice(i + 1) };
}

export interface CopyOutOptions extends CopyOptions {
  container: string;
  srcPath: string;
  /** host path, or '-' for a tar on `out` */
  dest: string;
  out?: Writable;
}

/**
 * docker cp CONTAINER:SRC DEST: read the container's file system as the container sees it (volumes, binds and
 * tmpfs included; a stopped container's mounts are set up for the copy), by directory fds inside its root.
 */
export async function copyFromContainer(opts: CopyOutOptions, ctx: Context): Promise<void> {
  if (opts.dest === '-' && !opts.out) throw new UsageError('no output stream for -');
  await withContainerRoot(ctx, opts.container, async ({ rootFd }) => {
    const req = { rootFd, srcPath: opts.srcPath, ref: opts.container, followLink: opts.followLink, archive: opts.archive, signal: ctx.signal };
    if (opts.dest === '-') await copyOutToTar(req, opts.out!);
    else await copyOutToHost(req, path.resolve(ctx.cwd, opts.dest), opts.dest);
  });
}

export interface CopyInOptions extends CopyOptions {
  container: string;
  /** host path, or '-' for a tar on `input` */
  src: string;
  dstPath: string;
  input?: Readable;
}

/** docker cp SRC CONTAINER:DST: write into the container's file system as it sees it, never through a path it can swap. */
export async function copyToContainer(opts: CopyInOptions, ctx: Context): Promise<void> {
  await withContainerRoot(ctx, opts.container, async ({ rootFd }) => {
    const req = { rootFd, dstPath: opts.dstPath, ref: opts.container, followLink: opts.followLink, archive: opts.archive, signal: ctx.signal };
    if (opts.src === '-') await copyTarIn(req, opts.input ?? process.stdin);
    else await copyHostIn(req, path.resolve(ctx.cwd, opts.src), opts.src);
  });
}
