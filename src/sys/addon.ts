import { createRequire } from 'node:module';
import { nativeBuildPath } from './package-root.js';

/**
 * tsdock's own Node-API addon (native/addon/tsdock-sys.c → native/build/tsdock-sys.node): the syscalls on the hot
 * path of the lifecycle verbs, so taking a lock does not load koffi (~0.1 ms instead of 2-3 ms). Each function
 * returns 0 or -errno. Loaded on first use; undefined when the file is missing or does not load (a build without
 * it), and the caller takes koffi's way instead.
 */
export interface Addon {
  flock(fd: number, op: number): number;
  /** FS_IOC_GETFLAGS, then FS_IOC_SETFLAGS with `mask` added unless all of it is set */
  inodeFlagsOr(fd: number, mask: number): number;
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
