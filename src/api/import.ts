import fs from 'node:fs';
import { Readable } from 'node:stream';
import type { Context } from '../context.js';
import { TsdockError, UsageError } from '../errors.js';
import { parseChange } from '../image/config-change.js';
import { importRootfs } from '../image/import-rootfs.js';
import { formatPlatform, hostPlatform, normalizePlatform, parsePlatform } from '../image/manifest.js';
import { formatReference, parseReference } from '../image/reference.js';
import { request, type HttpResponse } from '../image/registry/http.js';
import { ImageStore } from '../image/store/images.js';

export interface ImportOptions {
  /** a file, an http(s) URL, or "-" for stdin */
  source: string;
  reference?: string;
  changes?: string[];
  message?: string;
  platform?: string;
}

/** docker import: a root file system tarball → a one-layer image; → its id. */
export async function importImage(opts: ImportOptions, ctx: Context): Promise<string> {
  // 1. everything checked before any work: the changes, the name, the platform
  const changes = (opts.changes ?? []).map(parseChange);
  const ref = opts.reference ? parseReference(opts.reference) : undefined;
  if (ref?.digest) throw new UsageError(`invalid reference format: ${opts.reference} (a digest cannot be imported to)`);
  const platform = hostPlatform();
  if (opts.platform && formatPlatform(normalizePlatform(parsePlatform(opts.platform))) !== formatPlatform(platform)) {
    throw new UsageError(`--platform ${opts.platform}: only the host's platform (${formatPlatform(platform)}) can be imported`);
  }
  // 2. the tarball, 3. the image
  const input = await openSource(opts.source, ctx);
  const tag = ref ? formatReference({ ...ref, tag: ref.tag ?? 'latest' }) : undefined;
  return importRootfs(new ImageStore(ctx.root), { input, source: opts.source, platform, changes, message: opts.message, tag }, ctx);
}

async function openSource(source: string, ctx: Context): Promise<Readable> {
  if (source === '-') {
    if (!ctx.stdin) throw new UsageError('import from "-" needs a standard input');
    return ctx.stdin;
  }
  if (/^https?:\/\//i.test(source)) {
    let res: HttpResponse;
    try {
      res = await request({ url: source, ...(ctx.signal ? { signal: ctx.signal } : {}) });
    } catch (err) {
      if (ctx.signal?.aborted) throw err;
      throw new TsdockError(`fetching ${source}: ${(err as Error).message}`);
    }
    if (res.status < 200 || res.status > 299) {
      res.body.resume();
      throw new TsdockError(`fetching ${source}: the server answered ${res.status} ${res.body.statusMessage ?? ''}`.trimEnd());
    }
    return res.body;
  }
  return openInputFile(source);
}

/**
 * A local file as a stream, opened now: a missing or unreadable file is a one-line error here, not an 'error'
 * event on a stream nobody listens to yet (import's tarball, load's -i).
 */
export function openInputFile(file: string): Readable {
  try {
    const fd = fs.openSync(file, 'r');
    return fs.createReadStream('', { fd, highWaterMark: 1 << 20 });
  } catch (err) {
    throw new TsdockError(`open ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (err as Error).message}`);
  }
}
