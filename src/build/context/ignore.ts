/**
 * The build context's `.dockerignore`, with docker's rules. Loading: `<Dockerfile name>.dockerignore` beside
 * the Dockerfile wins over the context's `.dockerignore`. Reading (moby's ignorefile.ReadAll): a UTF-8 BOM
 * dropped, lines starting with `#` are comments, blanks trimmed, empty lines skipped, `!` marks an exception,
 * each pattern cleaned (`./a/` → `a`) with a leading `/` removed. Matching is @balena/dockerignore (a port of
 * moby's matcher: `*`, `?`, `**`, `\` escapes, a pattern matching a parent excludes what is inside it, the
 * last matching pattern decides), case-sensitive as docker on Linux. As docker's CLI does, the Dockerfile and
 * the .dockerignore are still sent when a pattern excludes them.
 */
import dockerignore, { type Ignore } from '@balena/dockerignore';
import type { Dirent } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { TsdockError, UsageError } from '../../errors.js';

export interface IgnoreFile {
  /** the file the patterns came from; undefined when there is none */
  readonly file?: string;
  readonly patterns: readonly string[];
}

/** The patterns of a .dockerignore text, as docker reads them. */
export function readIgnorePatterns(text: string): string[] {
  const out: string[] = [];
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  for (const line of body.split(/\r?\n/)) {
    if (line.startsWith('#')) continue;
    let p = line.trim();
    if (p === '') continue;
    const exception = p.startsWith('!');
    if (exception) p = p.slice(1).trim();
    if (p !== '') {
      p = path.posix.normalize(p).replace(/(?<=.)\/$/, '');
      if (p.length > 1 && p.startsWith('/')) p = p.slice(1);
    }
    out.push(exception ? `!${p}` : p);
  }
  return out;
}

/** The ignore file for a build: `<dockerfile>.dockerignore` beside the Dockerfile, else `<context>/.dockerignore`. */
export async function loadIgnoreFile(contextDir: string, dockerfile?: string): Promise<IgnoreFile> {
  const candidates = [...(dockerfile ? [`${path.resolve(contextDir, dockerfile)}.dockerignore`] : []), path.join(contextDir, '.dockerignore')];
  for (const file of candidates) {
    let text: string;
    try {
      text = await fs.readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw new TsdockError(`reading ${file}: ${(err as Error).message}`, { cause: err });
    }
    return { file, patterns: readIgnorePatterns(text) };
  }
  return { patterns: [] };
}

/** Decides what of a context is sent. Paths are relative to the context, `/`-separated. */
export class ContextMatcher {
  private readonly matcher: Ignore;
  private readonly exceptions: readonly string[];
  readonly patterns: readonly string[];

  /** `dockerfile`: the Dockerfile's path relative to the context, when it lies inside it. */
  constructor(patterns: readonly string[], dockerfile?: string) {
    const probe = compile(patterns);
    const keep = ['.dockerignore', ...(dockerfile ? [path.posix.normalize(dockerfile.split(path.sep).join('/'))] : [])];
    this.patterns = [...patterns, ...keep.filter((f) => probe.ignores(f)).map((f) => `!${f}`)];
    this.matcher = compile(this.patterns);
    this.exceptions = this.patterns.filter((p) => p.startsWith('!')).map((p) => p.slice(1));
  }

  excluded(rel: string): boolean {
    return this.matcher.ignores(rel);
  }

  /**
   * Whether an excluded directory must still be walked: docker descends only when an exception pattern starts
   * with the directory's path (`!dir/keep`, `!dir/*.txt`), not for exceptions that merely could match inside it.
   */
  descendInto(dirRel: string): boolean {
    return this.exceptions.some((p) => `${p}/`.startsWith(`${dirRel}/`));
  }
}

/**
 * @balena/dockerignore follows moby 19.03, which escaped only `.` and `$` when turning a pattern into a regular
 * expression; moby's patternmatcher now also escapes `+ ( ) | { }` (a file `a+b` matches the pattern `a+b`).
 * Escaping them first gives today's behaviour; an escape the pattern already has is kept as it is.
 */
function literalMeta(pattern: string): string {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\') out += c + (pattern[++i] ?? '');
    else out += '+()|{}'.includes(c) ? `\\${c}` : c;
  }
  return out;
}

function compile(patterns: readonly string[]): Ignore {
  if (patterns.includes('!')) throw new UsageError('invalid .dockerignore pattern: illegal exclusion pattern: "!"');
  try {
    // the package is CommonJS: its function is also its own `default`
    const m = dockerignore.default({ ignorecase: false }).add(patterns.map(literalMeta));
    m.ignores('probe');
    return m;
  } catch (err) {
    throw new UsageError(`invalid .dockerignore pattern: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * The context's entries that are sent (files, directories, symlinks: not followed), relative and sorted.
 * An excluded directory is skipped whole unless an exception pattern may re-include something inside it.
 */
export async function walkContext(contextDir: string, matcher: ContextMatcher): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string): Promise<void> => {
    let entries: Dirent[];
    try {
      entries = await fs.readdir(rel === '' ? contextDir : path.join(contextDir, rel), { withFileTypes: true });
    } catch (err) {
      throw new TsdockError(`reading the build context ${path.join(contextDir, rel)}: ${(err as Error).message}`, { cause: err });
    }
    for (const e of entries) {
      const child = rel === '' ? e.name : `${rel}/${e.name}`;
      const excluded = matcher.excluded(child);
      if (!excluded) out.push(child);
      if (e.isDirectory() && (!excluded || matcher.descendInto(child))) await walk(child);
    }
  };
  await walk('');
  return out.sort();
}
