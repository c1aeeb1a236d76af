/**
 * Which words of an instruction docker's builder expands, and with which rules (buildkit's dispatch):
 * ENV and LABEL keys and values, ADD/COPY sources, destination, --chown, --chmod (ADD's --checksum) and the
 * bodies of unquoted heredoc sources (no quote processing there), EXPOSE (split into words after expansion),
 * USER, WORKDIR, STOPSIGNAL, VOLUME, ARG defaults, FROM's image and --platform, RUN --mount values.
 * RUN/CMD/ENTRYPOINT/SHELL/HEALTHCHECK command lines, MAINTAINER and ONBUILD are left as written.
 * The result reports the variables the instruction looked up (the build cache keys on the args it uses).
 */
import { atLine } from './errors.js';
import { expand, type VarLookup } from './expand.js';
import { parseMount } from './mount.js';
import type { Instruction } from './types.js';

export interface ExpandedInstruction<T extends Instruction = Instruction> {
  readonly instruction: T;
  /** set variables the instruction's expanded words referenced */
  readonly used: ReadonlySet<string>;
  /** unset variables they referenced (substituted by the empty string) */
  readonly missing: ReadonlySet<string>;
}

export function expandInstruction<T extends Instruction>(inst: T, vars: VarLookup, escape: '\\' | '`' = '\\'): ExpandedInstruction<T> {
  const used = new Set<string>();
  const missing = new Set<string>();
  const note = (e: { used: ReadonlySet<string>; missing: ReadonlySet<string> }): void => {
    for (const n of e.used) used.add(n);
    for (const n of e.missing) missing.add(n);
  };
  const word = (w: string): string => {
    const e = expand(w, vars, { escape });
    note(e);
    return e.value;
  };
  const opt = (w: string | undefined): string | undefined => (w === undefined ? undefined : word(w));
  const body = (content: string): string => {
    const e = expand(content, vars, { skipQuotes: true });
    note(e);
    return e.value;
  };
  const instruction = atLine(inst.startLine, () => expandFields(inst, word, opt, body, (w) => {
    const e = expand(w, vars, { escape });
    note(e);
    return e.words;
  }));
  return { instruction: instruction as T, used, missing };
}

function expandFields(inst: Instruction, word: (w: string) => string, opt: (w: string | undefined) => string | undefined, body: (c: string) => string, words: (w: string) => readonly string[]): Instruction {
  switch (inst.kind) {
    case 'env':
    case 'label':
      return { ...inst, pairs: inst.pairs.map((p) => ({ key: word(p.key), value: word(p.value) })) };
    case 'add':
    case 'copy': {
      const common = {
        sources: inst.sources.map(word),
        dest: word(inst.dest),
        chown: opt(inst.chown),
        chmod: opt(inst.chmod),
        inline: inst.inline.map((s) => (s.expand ? { ...s, content: body(s.content) } : s)),
      };
      return inst.kind === 'add' ? { ...inst, ...common, checksum: opt(inst.checksum) } : { ...inst, ...common };
    }
    case 'expose':
      return { ...inst, ports: inst.ports.flatMap(words) };
    case 'user':
      return { ...inst, user: word(inst.user) };
    case 'workdir':
      return { ...inst, path: word(inst.path) };
    case 'stopsignal':
      return { ...inst, signal: word(inst.signal) };
    case 'volume':
      return { ...inst, paths: inst.paths.map(word) };
    case 'arg':
      return { ...inst, args: inst.args.map((a) => (a.default === undefined ? a : { ...a, default: word(a.default) })) };
    case 'from':
      return { ...inst, image: word(inst.image), platform: opt(inst.platform) };
    case 'run':
      return { ...inst, mounts: inst.mounts.map((m) => parseMount(m.spec, word)) };
    default:
      return inst;
  }
}
