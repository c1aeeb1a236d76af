/**
 * The shell wildcard patterns of `${V#p}`, `${V%p}` and `${V/p/r}` (buildkit's rules: `*` and `?`, `\\` escapes
 * only `*`, `?` and `\\`; no bracket expressions) as regular expressions, and the prefix and suffix trims.
 */
import { LexError } from './errors.js';

/** A shell wildcard pattern (`*`, `?`, `\` escapes; no brackets) as a regular expression. */
export function shellPattern(pattern: string, greedy: boolean, anchored: boolean, global = false): RegExp {
  const chars = Array.from(pattern);
  let out = anchored ? '^' : '';
  for (let i = 0; i < chars.length; i++) {
    const c = chars[i]!;
    if (c === '*') out += greedy ? '.*' : '.*?';
    else if (c === '?') out += '.';
    else if (c === '\\') {
      const n = chars[i + 1];
      if (n === '}' || n === '/') continue;
      if (n !== '*' && n !== '?' && n !== '\\') throw new LexError(`invalid pattern (${pattern}) in substitution: invalid escape '\\${n ?? ''}'`);
      out += `\\${n}`;
      i++;
    } else out += /[[\]{}.+()|^$]/.test(c) ? `\\${c}` : c;
  }
  return new RegExp(out, global ? 'gu' : 'u');
}

export function trimPrefix(pattern: string, value: string, greedy: boolean): string {
  const m = shellPattern(pattern, greedy, true).exec(value);
  return m ? value.slice(m[0].length) : value;
}

/** The shortest (or longest) match at the end: the reversed pattern matched at the start of the reversed value. */
export function trimSuffix(pattern: string, value: string, greedy: boolean): string {
  const rev = (s: string): string => Array.from(s).reverse().join('');
  return rev(trimPrefix(reversePattern(pattern), rev(value), greedy));
}

/** Reverses a pattern keeping each escape before the character it escapes (`a\*c` → `c\*a`). */
function reversePattern(pattern: string): string {
  const chars = Array.from(pattern);
  const out: string[] = [];
  for (let i = 0; i < chars.length; ) {
    if (chars[i] === '\\' && i !== chars.length - 1) {
      out.unshift(chars[i]!, chars[i + 1]!);
      i += 2;
    } else out.unshift(chars[i++]!);
  }
  return out.join('');
}
