/**
 * `tsdock build -` as docker reads its stdin: a tar archive (plain, gzip or zstd) is the context, unpacked into
 * `dir` (a work dir of the caller's); anything else is the Dockerfile itself, with an empty context.
 */
import { Readable } from 'node:stream';
import { decompressStream } from '../../storage/decompress.js';
import { unpackLayer } from '../../storage/unpack.js';
import { ByteSource } from '../../storage/bytesource.js';

async function isTar(data: Buffer): Promise<boolean> {
  try {
    const head = await new ByteSource(Readable.from([data]).pipe(decompressStream('auto'))).readExact(512);
    return Boolean(head && head.length === 512 && head.subarray(257, 262).toString('latin1') === 'ustar');
  } catch {
    return false;
  }
}

/** → the Dockerfile's text when stdin held one instead of a context. */
export async function contextFromStdin(data: Buffer, dir: string, rootful: boolean): Promise<{ dockerfileText?: string }> {
  if (!(await isTar(data))) return { dockerfileText: data.toString('utf8') };
  // the context's owners do not matter (COPY gives 0:0): unpacked as ours, no whiteouts meant
  await unpackLayer(Readable.from([data]).pipe(decompressStream('auto')), dir, { whiteouts: rootful ? 'overlay-root' : 'overlay-user', chown: false });
  return {};
}
