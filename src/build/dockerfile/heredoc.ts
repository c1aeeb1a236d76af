/**
 * Heredoc markers (buildkit's): a word `[fd]<<[-]NAME`, where NAME may be quoted in part or whole (`"EOF"`,
 * `'EOF'`, `E"O"F`: then the body is not expanded) and `-` strips the body's leading tabs. Markers are found
 * with backslash escapes whatever the file's escape directive, as buildkit does.
 */
import { expand } from './expand.js';

export interface HeredocMarker {
  readonly name: string;
  readonly expand: boolean;
  readonly chomp: boolean;
  readonly fd: number;
}

const MARKER = /^(\d*)<<(-?)\s*([^<]*)$/;
const none = (): undefined => undefined;

/** The marker a word is, if it is one. */
export function heredocMarker(word: string): HeredocMarker | undefined {
  const m = MARKER.exec(word);
  if (!m || m[3] === '') return undefined;
  const plain = expand(m[3]!, none, { skipUnset: true });
  if (plain.words.length !== 1) return undefined;
  const raw = expand(m[3]!, none, { skipUnset: true, rawQuotes: true });
  const quotes = (s: string): number => s.split(/['"]/).length - 1;
  return {
    name: plain.words[0]!,
    expand: quotes(plain.words[0]!) === quotes(raw.words[0] ?? ''),
    chomp: m[2] === '-',
    fd: m[1] === '' ? 0 : Number(m[1]),
  };
}

/** The heredoc markers of an instruction's line, in order. */
export function heredocMarkers(line: string): HeredocMarker[] {
  let words: readonly string[];
  try {
    words = expand(line, none, { rawQuotes: true, rawEscapes: true, skipUnset: true }).words;
  } catch {
    return [];
  }
  return words.map(heredocMarker).filter((h): h is HeredocMarker => h !== undefined);
}

/** `<<-` bodies lose their leading tabs. */
export function chompTabs(body: string): string {
  return body.replace(/^\t+/gm, '');
}
