/** A Dockerfile the parser or the stage resolver refuses: one line, with the 1-based line it concerns. */
import { UsageError } from '../../errors.js';

export class DockerfileError extends UsageError {
  readonly line: number;
  constructor(line: number, message: string, options: { cause?: unknown } = {}) {
    super(`dockerfile line ${line}: ${message}`, { ...options, exitCode: 1 });
    this.line = line;
  }
}

/** Runs `work`; any failure it throws (but a DockerfileError, which has its line) becomes a DockerfileError at `line`. */
export function atLine<T>(line: number, work: () => T): T {
  try {
    return work();
  } catch (err) {
    if (err instanceof DockerfileError) throw err;
    throw new DockerfileError(line, err instanceof Error ? err.message : String(err), { cause: err });
  }
}

/** A variable substitution the lexer cannot do; `expand` words it with the text it was processing. */
export class LexError extends Error {}
