/**
 * Docker's variable substitution (buildkit's frontend/dockerfile/shell lexer semantics): `$V`, `${V}`,
 * `${V:-d}` `${V-d}` `${V:+a}` `${V+a}` `${V:?msg}` `${V?msg}`, `${V#p}` `${V##p}` `${V%p}` `${V%%p}`,
 * `${V/p/r}` `${V//p/r}`; single quotes suppress expansion, double quotes do not, the escape character escapes.
 * Quotes are removed (unless `rawQuotes`), and `expandWords` splits the result into words after substitution.
 * Every expansion reports the variable names it looked up: `used` (set) and `missing` (unset), so the build
 * cache can key an instruction on the build args it uses.
 */
import { UsageError } from '../../errors.js';
import { LexError } from './errors.js';
import { shellPattern, trimPrefix, trimSuffix } from './pattern.js';

/** Where variables come from: a name's value, or undefined when unset. */
export type VarLookup = (name: string) => string | undefined;

export interface LexOptions {
  /** the Dockerfile's escape character (default backslash) */
  readonly escape?: string;
  /** keep quote characters in the result */
  readonly rawQuotes?: boolean;
  /** keep escape characters in the result */
  readonly rawEscapes?: boolean;
  /** leave an unset variable's reference as written instead of substituting the empty string */
  readonly skipUnset?: boolean;
  /** quotes are ordinary characters (heredoc contents) */
  readonly skipQuotes?: boolean;
}

export interface Expansion {
  readonly value: string;
  readonly words: readonly string[];
  readonly used: ReadonlySet<string>;
  readonly missing: ReadonlySet<string>;
}

const EOF = '';

/**
 * `text` with variables substituted and quotes removed (`value`, docker's ProcessWord), and the same split into
 * words after substitution (`words`, ProcessWords: quoted blanks stay inside their word).
 */
export function expand(text: string, vars: VarLookup, opts: LexOptions = {}): Expansion {
  return new Lexer(text, vars, opts).run();
}

/** A lookup over a plain record or map. */
export function lookupIn(values: ReadonlyMap<string, string> | Readonly<Record<string, string>>): VarLookup {
  if (values instanceof Map) return (n) => values.get(n);
  const rec = values as Readonly<Record<string, string>>;
  return (n) => (Object.prototype.hasOwnProperty.call(rec, n) ? rec[n] : undefined);
}

class Words {
  words: string[] = [];
  buf = '';
  inWord = false;
  addChar(ch: string): void {
    if (/\s/u.test(ch)) {
      if (this.inWord && this.buf !== '') {
        this.words.push(this.buf);
        this.buf = '';
        this.inWord = false;
      }
    } else this.addRaw(ch);
  }
  addRaw(s: string): void {
    this.buf += s;
    this.inWord = true;
  }
  addString(s: string): void {
    for (const ch of s) this.addChar(ch);
  }
  done(): string[] {
    if (this.buf !== '') this.words.push(this.buf);
    this.buf = '';
    return this.words;
  }
}

class Lexer {
  private readonly chars: string[];
  private pos = 0;
  private readonly esc: string;
  private rawEscapes: boolean;
  readonly used = new Set<string>();
  readonly missing = new Set<string>();

  constructor(
    private readonly source: string,
    private readonly vars: VarLookup,
    private readonly opts: LexOptions,
  ) {
    this.chars = Array.from(source);
    this.esc = opts.escape ?? '\\';
    this.rawEscapes = opts.rawEscapes ?? false;
  }

  run(): Expansion {
    try {
      const { result, words } = this.until(EOF, this.rawEscapes);
      return { value: result, words, used: this.used, missing: this.missing };
    } catch (err) {
      if (err instanceof LexError) throw new UsageError(`failed to process ${JSON.stringify(this.source)}: ${err.message}`);
      throw err;
    }
  }

  private peek(): string {
    return this.chars[this.pos] ?? EOF;
  }
  private next(): string {
    return this.pos < this.chars.length ? this.chars[this.pos++]! : EOF;
  }

  /** Reads up to `stop` (consumed) or the end; `rawEscapes` holds inside (patterns keep their escapes). */
  private until(stop: string, rawEscapes: boolean): { result: string; words: string[] } {
    const saved = this.rawEscapes;
    this.rawEscapes = rawEscapes;
    try {
      let result = '';
      const words = new Words();
      while (this.peek() !== EOF) {
        const ch = this.peek();
        if (stop !== EOF && ch === stop) {
          this.next();
          return { result, words: words.done() };
        }
        const special = this.special(ch);
        if (special) {
          const s = special();
          result += s;
          if (ch === '$') words.addString(s);
          else words.addRaw(s);
          continue;
        }
        let c = this.next();
        if (c === this.esc) {
          if (this.rawEscapes) {
            words.addRaw(c);
            result += c;
          }
          c = this.next();
          if (c === EOF) break;
          words.addRaw(c);
        } else words.addChar(c);
        result += c;
      }
      if (stop !== EOF) throw new LexError(`unexpected end of statement while looking for matching ${stop}`);
      return { result, words: words.done() };
    } finally {
      this.rawEscapes = saved;
    }
  }

  private special(ch: string): (() => string) | undefined {
    if (ch === '$') return () => this.dollar();
    if (ch === '<') return () => this.possibleHeredoc();
    if (this.opts.skipQuotes) return undefined;
    if (ch === "'") return () => this.singleQuoted();
    if (ch === '"') return () => this.doubleQuoted();
    return undefined;
  }

  private singleQuoted(): string {
    let out = this.opts.rawQuotes ? this.next() : (this.next(), '');
    for (;;) {
      const c = this.next();
      if (c === EOF) throw new LexError('unexpected end of statement while looking for matching single-quote');
      if (c === "'") return this.opts.rawQuotes ? out + c : out;
      out += c;
    }
  }

  private doubleQuoted(): string {
    let out = this.opts.rawQuotes ? this.next() : (this.next(), '');
    for (;;) {
      const p = this.peek();
      if (p === EOF) throw new LexError('unexpected end of statement while looking for matching double-quote');
      if (p === '"') {
        const c = this.next();
        return this.opts.rawQuotes ? out + c : out;
      }
      if (p === '$') {
        out += this.dollar();
        continue;
      }
      let c = this.next();
      if (c === this.esc) {
        if (this.rawEscapes) out += c;
        const after = this.peek();
        if (after === EOF) continue;
        // only " $ and the escape character itself are escaped inside double quotes; others stay literal
        if (after === '"' || after === '$' || after === this.esc) c = this.next();
      }
      out += c;
    }
  }

  /** `<<` and the blanks after it stay one word with what follows (a heredoc marker). */
  private possibleHeredoc(): string {
    this.next();
    if (this.peek() !== '<') return '<';
    this.next();
    let out = '<<';
    while (this.peek() === ' ' || this.peek() === '\t' || this.peek() === '\r') out += this.next();
    return out;
  }

  private lookup(name: string): string | undefined {
    const v = this.vars(name);
    (v === undefined ? this.missing : this.used).add(name);
    return v;
  }

  private dollar(): string {
    this.next();
    if (this.peek() !== '{') {
      const name = this.name();
      if (name === '') return '$';
      const v = this.lookup(name);
      if (v === undefined && this.opts.skipUnset) return `$${name}`;
      return v ?? '';
    }
    this.next();
    const first = this.peek();
    if (first === EOF) throw new LexError("syntax error: missing '}'");
    if (first === '{' || first === '}' || first === ':') throw new LexError('syntax error: bad substitution');
    const name = this.name();
    let op = this.next();
    if (op === '}') {
      const v = this.lookup(name);
      if (v === undefined && this.opts.skipUnset) return `\${${name}}`;
      return v ?? '';
    }
    if (op === '/') return this.replace(name);
    let mod = op;
    const colon = op === ':';
    if (colon) {
      op = this.next();
      mod += op;
    } else if (op === EOF) throw new LexError("syntax error: missing '}'");
    else if (!'+-?#%'.includes(op)) throw new LexError(`unsupported modifier (${mod}) in substitution`);
    const patternOp = op === '#' || op === '%';
    if (colon && patternOp) throw new LexError(`unsupported modifier (${mod}) in substitution`);
    const word = this.closing('}', patternOp);
    const v = this.lookup(name);
    if (v === undefined && this.opts.skipUnset) return `\${${name}${mod}${word}}`;
    const empty = v === undefined || (colon && v === '');
    switch (op) {
      case '-':
        return empty ? word : v!;
      case '+':
        return empty ? '' : word;
      case '?':
        if (v === undefined) throw new LexError(`${name}: ${word || 'is not allowed to be unset'}`);
        if (colon && v === '') throw new LexError(`${name}: ${word || 'is not allowed to be empty'}`);
        return v;
      case '#':
      case '%': {
        const greedy = word.startsWith(op);
        const pattern = greedy ? word.slice(1) : word;
        return op === '#' ? trimPrefix(pattern, v ?? '', greedy) : trimSuffix(pattern, v ?? '', greedy);
      }
      default:
        throw new LexError(`unsupported modifier (${mod}) in substitution`);
    }
  }

  /** `${name/pattern/replacement}` and `${name//pattern/replacement}` (every match). */
  private replace(name: string): string {
    const all = this.peek() === '/';
    if (all) this.next();
    const pattern = this.closing('/', true, "syntax error: missing '/' in ${}");
    const replacement = this.closing('}', true);
    const v = this.lookup(name);
    if (v === undefined && this.opts.skipUnset) return `\${${name}/${pattern}/${replacement}}`;
    const re = shellPattern(pattern, true, false, all);
    return (v ?? '').replace(re, () => replacement);
  }

  private closing(stop: string, rawEscapes: boolean, missing = "syntax error: missing '}'"): string {
    try {
      return this.until(stop, rawEscapes).result;
    } catch (err) {
      if (err instanceof LexError && this.peek() === EOF) throw new LexError(missing);
      throw err;
    }
  }

  /** A variable name: letters, digits and `_`; or all the digits of a positional; or one special parameter. */
  private name(): string {
    let name = '';
    while (this.peek() !== EOF) {
      const ch = this.peek();
      if (name === '' && /\p{Nd}/u.test(ch)) {
        while (/\p{Nd}/u.test(this.peek())) name += this.next();
        return name;
      }
      if (name === '' && '@*#?-$!0'.includes(ch)) return this.next();
      if (!/[\p{L}\p{Nd}_]/u.test(ch)) break;
      name += this.next();
    }
    return name;
  }
}

