/**
 * How buildkit's parser cuts an instruction's text: the keyword, the leading `--flags` (quotes and escapes
 * processed), and the rest as words (quotes kept, for expansion later), whitespace-separated fields, or a JSON
 * array (exec form; text that is not a JSON array is shell form, an array of non-strings is an error).
 */

const BLANKS = /[\t\v\f\r ]+/;

export interface SplitCommand {
  readonly keyword: string;
  readonly flags: readonly string[];
  readonly rest: string;
}

export function splitCommand(line: string, escape: string): SplitCommand {
  const trimmed = line.trim();
  const m = BLANKS.exec(trimmed);
  if (!m) return { keyword: trimmed, flags: [], rest: '' };
  const { flags, rest } = extractFlags(trimmed.slice(m.index + m[0].length), escape);
  return { keyword: trimmed.slice(0, m.index), flags, rest: rest.trim() };
}

/** The `--name[=value]` words at the start of `text` (a bare `--` ends them), and what follows them. */
function extractFlags(text: string, escape: string): { flags: string[]; rest: string } {
  const flags: string[] = [];
  let pos = 0;
  for (;;) {
    while (pos < text.length && /\s/.test(text[pos]!)) pos++;
    if (pos >= text.length) return { flags, rest: '' };
    if (!text.startsWith('--', pos)) return { flags, rest: text.slice(pos) };
    let word = '';
    let quote = '';
    let quoted = false;
    for (; pos < text.length; pos++) {
      let ch = text[pos]!;
      if (!quote && /\s/.test(ch)) break;
      if (!quote && (ch === '"' || ch === "'")) {
        quote = ch;
        quoted = true;
        continue;
      }
      if (quote && ch === quote) {
        quote = '';
        continue;
      }
      if (ch === escape) {
        if (pos + 1 === text.length) continue;
        ch = text[++pos]!;
      }
      word += ch;
    }
    if (word === '--') return { flags, rest: text.slice(pos) };
    if (quoted || word !== '') flags.push(word);
  }
}

/** Words separated by blanks, quotes and escapes kept in them (blanks inside quotes do not separate). */
export function parseWords(rest: string, escape: string): string[] {
  const chars = Array.from(rest);
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let quote = '';
  let blankOk = false;
  for (let i = 0; i < chars.length; i++) {
    let ch = chars[i]!;
    if (!inWord) {
      if (/\s/u.test(ch)) continue;
      inWord = true;
    }
    if (quote === '') {
      if (/\s/u.test(ch)) {
        if (blankOk || cur !== '') words.push(cur);
        cur = '';
        inWord = false;
        blankOk = false;
        continue;
      }
      if (ch === "'" || ch === '"') {
        quote = ch;
        blankOk = true;
      }
      if (ch === escape) {
        if (i + 1 === chars.length) continue;
        cur += ch;
        ch = chars[++i]!;
      }
      cur += ch;
      continue;
    }
    if (ch === quote) quote = '';
    else if (ch === escape && quote !== "'") {
      if (i + 1 === chars.length) {
        quote = '';
        continue;
      }
      cur += ch;
      ch = chars[++i]!;
    }
    cur += ch;
  }
  if (inWord && (blankOk || cur !== '')) words.push(cur);
  return words;
}

/** Blank-separated fields, nothing else processed. */
export function splitFields(rest: string): string[] {
  return rest === '' ? [] : rest.split(BLANKS);
}

/** Exec form: the strings of a JSON array; undefined when `rest` is not a JSON array (shell form). */
export function parseJsonArray(rest: string): string[] | undefined {
  const text = rest.trimStart();
  if (!text.startsWith('[')) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(value)) return undefined;
  if (!value.every((v) => typeof v === 'string')) throw new Error('when using JSON array syntax, arrays must be comprised of strings only');
  return value as string[];
}
