/**
 * The trees COPY/ADD read from, behind one interface: the build context (a directory, `.dockerignore` applied:
 * an excluded path does not exist) and an image's or stage's merged layers (storage/imagefs: no mount). Paths are
 * relative to the tree's root, `/`-separated, '' for the root; each entry names the host file holding it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { listEntryDir, lookupImagePath } from '../../storage/imagefs.js';
import type { ContextMatcher } from '../context/ignore.js';

export interface SourceEntry {
  /** the host path of the entry's bytes */
  readonly hostPath: string;
  readonly stat: fs.Stats;
}

export interface SourceFs {
  /** the entry at `rel`; `follow`: a final symlink is followed (inside the tree) */
  lookup(rel: string, follow: boolean): SourceEntry | undefined;
  /** a directory's names, sorted */
  list(rel: string): string[] | undefined;
}

export function contextFs(dir: string, matcher: ContextMatcher): SourceFs {
  const inside = (abs: string): boolean => abs === dir || abs.startsWith(`${dir}${path.sep}`);
  const lookup = (rel: string, follow: boolean, depth = 0): SourceEntry | undefined => {
    if (rel !== '' && matcher.excluded(rel)) return undefined;
    const hostPath = rel === '' ? dir : path.join(dir, rel);
    let stat: fs.Stats;
    try {
      stat = fs.lstatSync(hostPath);
    } catch {
      return undefined;
    }
    if (follow && stat.isSymbolicLink() && depth < 40) {
      let real: string;
      try {
        real = fs.realpathSync(hostPath);
      } catch {
        return undefined;
      }
      // a link leaving the context resolves as if the context were the root (docker's rule)
      const target = inside(real) ? path.relative(dir, real) : '';
      return inside(real) ? lookup(target.split(path.sep).join('/'), true, depth + 1) : undefined;
    }
    return { hostPath, stat };
  };
  return {
    lookup: (rel, follow) => lookup(rel, follow),
    list(rel) {
      try {
        return fs
          .readdirSync(rel === '' ? dir : path.join(dir, rel))
          .filter((n) => !matcher.excluded(rel === '' ? n : `${rel}/${n}`) || matcher.descendInto(rel === '' ? n : `${rel}/${n}`))
          .sort();
      } catch {
        return undefined;
      }
    },
  };
}

/** An image's (or a finished stage's) merged file system; `layers`: diff dirs, top first. */
export function imageFs(layers: readonly string[]): SourceFs {
  return {
    lookup(rel, follow) {
      const e = lookupImagePath(layers, `/${rel}`, { followFinal: follow });
      return e ? { hostPath: path.join(e.layerDir, e.relPath), stat: e.stat } : undefined;
    },
    list(rel) {
      const e = lookupImagePath(layers, `/${rel}`);
      return e && e.stat.isDirectory() ? [...listEntryDir(e).keys()] : undefined;
    },
  };
}
