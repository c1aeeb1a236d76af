/**
 * Dockerfile text → typed instructions (types.ts), with docker's rules: parser directives, comments,
 * continuations (lines.ts), heredocs after RUN/ADD/COPY (also inside ONBUILD), JSON vs shell form and flags per
 * instruction (instruction.ts), ONBUILD's trigger parsed and checked. Every error is a DockerfileError naming
 * the instruction's first line: `dockerfile line 7: unknown instruction: COPPY`.
 */
import { atLine, DockerfileError } from './errors.js';
import { chompTabs, heredocMarkers } from './heredoc.js';
import { BUILDERS } from './instruction.js';
import { LineReader, type LogicalLine } from './lines.js';
import type { Dockerfile, Heredoc, Instruction, Located } from './types.js';
import { parseJsonArray, splitCommand } from './words.js';

const HEREDOC_KINDS = new Set(['run', 'add', 'copy']);

export function parseDockerfile(text: string): Dockerfile {
  const reader = new LineReader(text);
  const instructions: Instruction[] = [];
  for (let line = reader.nextInstruction(); line; line = reader.nextInstruction()) instructions.push(parseLine(line, reader));
  if (instructions.length === 0) throw new DockerfileError(Math.max(reader.line, 1), 'file with no instructions');
  return { directives: reader.directives, instructions, warnings: reader.warnings };
}

function parseLine(line: LogicalLine, reader: LineReader): Instruction {
  const heredocs: Heredoc[] = [];
  const raw: string[] = [];
  if (line.text.includes('<<') && mayHaveHeredocs(line.text, reader.escape)) {
    for (const m of atLine(line.startLine, () => heredocMarkers(line.text))) {
      const body = reader.heredocBody(m.name, m.chomp);
      if (body === undefined) throw new DockerfileError(line.startLine, 'unterminated heredoc');
      raw.push(`${body}${m.name}`);
      heredocs.push({ name: m.name, content: m.chomp ? chompTabs(body) : body, expand: m.expand, chomp: m.chomp, fd: m.fd });
    }
  }
  const lines: Located = { startLine: line.startLine, endLine: reader.line };
  return atLine(line.startLine, () => build(line.text, lines, heredocs, reader.escape, raw));
}

/** RUN, ADD and COPY in shell form (directly or as an ONBUILD trigger) read heredocs. */
function mayHaveHeredocs(text: string, escape: string): boolean {
  let { keyword, rest } = splitCommand(text, escape);
  if (keyword.toLowerCase() === 'onbuild') ({ keyword, rest } = splitCommand(rest, escape));
  if (!HEREDOC_KINDS.has(keyword.toLowerCase())) return false;
  try {
    return parseJsonArray(rest) === undefined;
  } catch {
    return false;
  }
}

function build(text: string, lines: Located, heredocs: readonly Heredoc[], escape: string, rawBodies: readonly string[] = []): Instruction {
  const { keyword, flags, rest } = splitCommand(text, escape);
  const kw = keyword.toLowerCase();
  if (kw === 'onbuild') {
    if (flags.length) throw new Error(`unknown flag: ${flags[0]!.split('=')[0]}`);
    if (rest === '') throw new Error('ONBUILD requires at least one argument');
    const inner = splitCommand(rest, escape).keyword.toUpperCase();
    if (inner === 'ONBUILD') throw new Error('chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed');
    if (inner === 'FROM' || inner === 'MAINTAINER') throw new Error(`${inner} isn't allowed as an ONBUILD trigger`);
    const trigger = build(rest, lines, heredocs, escape);
    const expression = [text.replace(/^\s*ONBUILD\s*/i, ''), ...rawBodies].join('\n');
    return { kind: 'onbuild', trigger, expression, ...lines };
  }
  const builder = Object.prototype.hasOwnProperty.call(BUILDERS, kw) ? BUILDERS[kw] : undefined;
  if (!builder) throw new Error(`unknown instruction: ${keyword}`);
  return { ...builder({ flags, rest, heredocs, escape }), ...lines } as Instruction;
}
