import { createRequire } from 'node:module';
import { nativeBuildPath } from './package-root.js';

/**
 * tsdock's own Node-API addon (native/addon/tsdock-sys.c → native/build/tsdock-sys.node): the syscalls on the hot
 * path of the lifecycle verbs, so taking a lock does not load koffi (~0.1 ms instead of 2-3 ms), and the two made
 * for each of a layer's symlinks. Each function
 * returns 0 or -errno. Loaded on first use; undefined when the file is missing or does not load (a build without
 * it), and the caller takes koffi's way instead.
 */
export interface Addon {
  flock(fd: number, op: number): number;
  /** FS_IOC_GETFLAGS, then FS_IOC_SETFLAGS with `mask` added unless all of it is set */
  inodeFlagsOr(fd: number, mask: number): number;
  /** symlink(2); absent from an addon built before it */
  symlink?(target: string, path: string): number;
  /** utimensat(2) with AT_SYMLINK_NOFOLLOW, finite times in seconds (kept to the microsecond, as fs.lutimes does) */
  lutimes?(path: string, atime: number, mtime: number): number;
  /** native/addon/tarheader.c: a tar header's octal numbers and its two checksums into `out` (11 numbers) */
  tarHeader?(block: Buffer, out: Float64Array): number;
  /** native/addon/inflate.c (ISA-L's gzip inflate, sys/inflate.ts); inflateStateSize() is 0 without libisal.so.2 */
  inflateStateSize?(): number;
  inflateInit?(state: Buffer, reset: number): number;
  inflate?(state: Buffer, input: Buffer, output: Buffer, result: Int32Array): number;
}

let loaded: Addon | null | undefined;

export function addon(): Addon | undefined {
  if (loaded === undefined) {
    try {
      const mod = createRequire(import.meta.url)(nativeBuildPath('tsdock-sys.node')) as Partial<Addon>;
      loaded = typeof mod.flock === 'function' && typeof mod.inodeFlagsOr === 'function' ? (mod as Addon) : null;
    } catch {
      loaded = null;
    }
  }
  return loaded ?? undefined;
}
