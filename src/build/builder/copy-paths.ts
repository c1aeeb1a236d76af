/**
 * COPY/ADD's path rules, docker's (pure): the destination resolved against WORKDIR (a trailing `/` kept: it
 * says "a directory"), Go's filepath.Match wildcards (`*`, `?`, `[a-z]`, `[^a]`, `\` escapes) per path component,
 * and where each source lands: a directory's contents go into the destination; a file goes to `dest/<name>`
 * when the destination is a directory (trailing `/`, or a directory in the image), else to `dest` itself.
 */
import path from 'node:path';

/** The destination as an absolute path; `dir` when it ends with `/` (or is `.`/`..`-ish, docker's rule). */
export function resolveDest(dest: string, workdir: string | undefined): { path: string; dir: boolean } {
  const dir = dest.endsWith('/') || dest === '.' || dest.endsWith('/.') || dest === '..' || dest.endsWith('/..');
  const abs = path.posix.resolve(workdir || '/', dest);
  return { path: abs, dir };
}

export function hasWildcard(p: string): boolean {
  return /[*?[]/.test(p);
}

/** One path component's pattern as a regular expression (Go filepath.Match). */
export function componentPattern(pattern: string): RegExp {
  let out = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else if (c === '\\' && i + 1 < pattern.length) out += escapeRe(pattern[++i]!);
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) throw new Error(`syntax error in pattern: ${pattern}`);
      let body = pattern.slice(i + 1, end);
      const negate = body.startsWith('^') || body.startsWith('!');
      if (negate) body = body.slice(1);
      out += `[${negate ? '^' : ''}${body.replace(/[\]\\]/g, '\\$&')}]`;
      i = end;
    } else out += escapeRe(c);
  }
  return new RegExp(`${out}$`, 'u');
}

const escapeRe = (c: string): string => c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** A source path cleaned as docker cleans it: relative to the source root, no `..` above it. */
export function cleanSource(src: string): string {
  const clean = path.posix.normalize(`/${src}`).slice(1).replace(/\/$/, '');
  return clean === '.' ? '' : clean;
}

/**
 * Expands a source pattern against a tree: `list(dir)` gives a directory's names ('' is the root).
 * Without wildcards the path itself is returned (existence is the caller's check).
 */
export function expandSource(pattern: string, list: (dir: string) => readonly string[] | undefined): string[] {
  const clean = cleanSource(pattern);
  if (!hasWildcard(clean)) return [clean];
  let current = [''];
  for (const part of clean.split('/')) {
    const next: string[] = [];
    for (const dir of current) {
      if (!hasWildcard(part)) {
        next.push(dir === '' ? part : `${dir}/${part}`);
        continue;
      }
      const re = componentPattern(part);
      for (const name of [...(list(dir) ?? [])].sort()) if (re.test(name)) next.push(dir === '' ? name : `${dir}/${name}`);
    }
    current = next;
  }
  return current;
}

/** Where one source lands: a directory's contents at `dest`, a file at `dest/<base>` or `dest`. */
export function landing(source: string, isDir: boolean, dest: { path: string; dir: boolean }, destIsDirInImage: boolean): string {
  if (isDir) return dest.path;
  if (dest.dir || destIsDirInImage) return path.posix.join(dest.path, path.posix.basename(source) || '.');
  return dest.path;
}
