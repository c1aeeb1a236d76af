import fs from 'node:fs';
import { unsafe } from './tarpath.js';

/**
 * The layer directory being filled. Every write goes through `parentFor`, which walks the parent
 * components with lstat and refuses any that is a symlink or not a directory, so no entry can be written
 * through a symlink (nor a file used as a directory). Directories verified or created here are remembered,
 * so each is lstat'ed once; replacing or removing one forgets it and everything below it.
 *
 * The directory starts empty and is private to this unpack, so anything found in it came from this layer.
 * Metadata calls are synchronous on purpose: they are microseconds each, far cheaper than a thread-pool
 * round trip, and file contents (the slow part) are written asynchronously elsewhere.
 */
export class LayerTree {
  private readonly knownDirs = new Set<string>(['']);

  constructor(readonly root: string) {}

  abs(rel: string): string {
    return rel === '' ? this.root : `${this.root}/${rel}`;
  }

  /**
   * Make sure every parent of `rel` is a real directory, creating missing ones (0755, as docker does for
   * parents a layer does not list). `raw` is the archive's name for messages.
   */
  parentFor(rel: string, raw: string, what = 'path'): void {
    const slash = rel.lastIndexOf('/');
    if (slash < 0) return;
    this.ensureDir(rel.slice(0, slash), raw, what, true);
  }

  /** Like parentFor for `rel` itself: it must end up a real directory (created 0755 if missing). */
  ensureDir(rel: string, raw: string, what = 'path', create = true): boolean {
    if (this.knownDirs.has(rel)) return true;
    let at = 0;
    for (;;) {
      const slash = rel.indexOf('/', at);
      const prefix = slash < 0 ? rel : rel.slice(0, slash);
      if (!this.knownDirs.has(prefix)) {
        const st = lstatOrUndefined(this.abs(prefix));
        if (!st) {
          if (!create) return false;
          fs.mkdirSync(this.abs(prefix), 0o755);
          fs.chmodSync(this.abs(prefix), 0o755);
        } else if (st.isSymbolicLink()) {
          throw unsafe(what, raw, `its parent ${JSON.stringify(prefix)} is a symlink in this layer`);
        } else if (!st.isDirectory()) {
          throw unsafe(what, raw, `its parent ${JSON.stringify(prefix)} is not a directory`);
        }
        this.knownDirs.add(prefix);
      }
      if (slash < 0) return true;
      at = slash + 1;
    }
  }

  /** The parents of `rel` exist and are real directories (nothing created); throws on a symlinked parent. */
  parentsExist(rel: string, raw: string, what: string): boolean {
    const slash = rel.lastIndexOf('/');
    return slash < 0 || this.ensureDir(rel.slice(0, slash), raw, what, false);
  }

  /** Record that `rel` is now a directory we created. */
  noteDir(rel: string): void {
    this.knownDirs.add(rel);
  }

  /**
   * Remove whatever is at `rel` so a new entry can take its place (a later tar entry replaces an earlier
   * one). Returns the removed entry's stats, or undefined if nothing was there.
   */
  remove(rel: string): fs.Stats | undefined {
    const abs = this.abs(rel);
    const st = lstatOrUndefined(abs);
    if (!st) return undefined;
    if (st.isDirectory()) {
      fs.rmSync(abs, { recursive: true, force: true });
      this.forgetBelow(rel);
    } else {
      fs.unlinkSync(abs);
    }
    return st;
  }

  /** Forget `rel` and everything under it (after it was removed). */
  forgetBelow(rel: string): void {
    const prefix = `${rel}/`;
    for (const dir of this.knownDirs) if (dir === rel || dir.startsWith(prefix)) this.knownDirs.delete(dir);
    for (const listener of this.onForget) listener(rel, prefix);
  }

  /** Called with (rel, rel + '/') whenever a directory subtree is removed. */
  readonly onForget: Array<(rel: string, prefix: string) => void> = [];
}

export function lstatOrUndefined(abs: string): fs.Stats | undefined {
  return fs.lstatSync(abs, { throwIfNoEntry: false });
}
