/**
 * Dockerfile text → logical lines, as buildkit's parser reads them: the parser directives at the top
 * (`# escape=`, `# syntax=`, `# check=`), comments, line continuations with the escape character (comment lines
 * and blank lines inside a continuation are skipped; blank ones earn a warning), and the heredoc bodies that
 * follow an instruction's line.
 */
import { DockerfileError } from './errors.js';
import type { Directives } from './types.js';

export interface LogicalLine {
  /** the instruction's text, continuations joined, leading blanks removed */
  readonly text: string;
  readonly startLine: number;
  readonly endLine: number;
}

const DIRECTIVE = /^([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$/;
const KNOWN_DIRECTIVES = new Set(['syntax', 'escape', 'check']);

export class LineReader {
  /** each physical line with its ending (`\n` or `\r\n`) kept, for heredoc bodies */
  private readonly raw: string[];
  private next = 0;
  private directivesDone = false;
  private readonly seen = new Map<string, string>();
  private continuation!: RegExp;
  escape: '\\' | '`' = '\\';
  readonly warnings: { line: number; message: string }[] = [];

  constructor(text: string) {
    const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
    this.raw = body.match(/[^\n]*\n|[^\n]+$/g) ?? [];
    this.setEscape('\\', 0);
  }

  get directives(): Directives {
    return { escape: this.escape, syntax: this.seen.get('syntax'), check: this.seen.get('check') };
  }

  /** The last physical line read (1-based). */
  get line(): number {
    return this.next;
  }

  private setEscape(value: string, line: number): void {
    if (value !== '\\' && value !== '`') throw new DockerfileError(line, `invalid escape token '${value}' does not match \` or \\`);
    this.escape = value;
    const e = value === '\\' ? '\\\\' : '`';
    // the escape character at the end (blanks after it allowed) continues the line, unless it is itself escaped
    this.continuation = new RegExp(`([^${e}])${e}[ \\t]*$|^${e}[ \\t]*$`);
  }

  /** Directives are the `# key=value` comments before anything else; the first other line ends them. */
  private directive(line: string, lineNo: number): boolean {
    if (this.directivesDone) return false;
    const m = line.startsWith('#') ? DIRECTIVE.exec(line.slice(1).trimStart()) : null;
    const key = m?.[1]!.toLowerCase();
    if (!m || !KNOWN_DIRECTIVES.has(key!)) {
      this.directivesDone = true;
      return false;
    }
    if (this.seen.has(key!)) throw new DockerfileError(lineNo, `only one ${key} parser directive can be used`);
    this.seen.set(key!, m[2]!);
    if (key === 'escape') this.setEscape(m[2]!, lineNo);
    return true;
  }

  private physical(): string | undefined {
    const l = this.raw[this.next];
    if (l === undefined) return undefined;
    this.next++;
    return l.replace(/[\r\n]+$/, '');
  }

  private continues(line: string): { text: string; more: boolean } {
    if (!this.continuation.test(line)) return { text: line, more: false };
    return { text: line.replace(this.continuation, '$1'), more: true };
  }

  /** The next instruction's logical line, or undefined at the end of the file. */
  nextInstruction(): LogicalLine | undefined {
    for (;;) {
      const first = this.physical();
      if (first === undefined) return undefined;
      const startLine = this.next;
      const trimmed = first.replace(/^\s+/u, '');
      this.directive(trimmed, startLine);
      if (isComment(trimmed)) continue;
      let { text, more } = this.continues(trimmed);
      if (!more && text === '') continue;
      let blankInside = false;
      while (more) {
        const l = this.physical();
        if (l === undefined) break;
        this.directive(l, this.next);
        if (isComment(l)) continue;
        if (l.trim() === '') {
          blankInside = true;
          continue;
        }
        const c = this.continues(l);
        text += c.text;
        more = c.more;
      }
      if (blankInside) this.warnings.push({ line: this.next, message: `empty continuation line found in: ${text}` });
      return { text, startLine, endLine: this.next };
    }
  }

  /**
   * The body of a heredoc: the lines up to its terminator (a line that is exactly `name`, after leading tabs
   * with `<<-`), endings kept. Undefined when the file ends first.
   */
  heredocBody(name: string, chomp: boolean): string | undefined {
    let body = '';
    for (;;) {
      const l = this.raw[this.next];
      if (l === undefined) return undefined;
      this.next++;
      let candidate = l.replace(/[\r\n]+$/, '');
      if (chomp) candidate = candidate.replace(/^\t+/, '');
      if (candidate === name) return body;
      body += l;
    }
  }
}

function isComment(line: string): boolean {
  return line.replace(/^\s+/u, '').startsWith('#');
}
