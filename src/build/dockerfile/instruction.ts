/**
 * One instruction's text (keyword, flags, arguments) → its typed form, with buildkit's per-instruction rules:
 * which flags it takes, how its arguments are cut (words, fields, JSON or shell form), and its argument errors.
 * The caller (parse.ts) has read the heredoc bodies already and adds the line numbers.
 */
import { Flags } from './flags.js';
import { heredocMarker } from './heredoc.js';
import { parseHealthcheck } from './healthcheck.js';
import { parseMount } from './mount.js';
import type { AddInstruction, ArgDecl, CommandLine, CopyInstruction, Heredoc, InlineSource, Instruction, KeyValue } from './types.js';
import { parseJsonArray, parseWords, splitFields } from './words.js';

/** What each builder gets: the instruction's flags (`--x=y` words) and arguments, its heredocs, the escape. */
export interface InstructionText {
  readonly flags: readonly string[];
  readonly rest: string;
  readonly heredocs: readonly Heredoc[];
  readonly escape: string;
}

/** An instruction without its lines (parse.ts adds them). */
export type Built = Instruction extends infer I ? (I extends Instruction ? Omit<I, 'startLine' | 'endLine'> : never) : never;

/** Instructions that take no flag refuse every one. */
const noFlags = (t: InstructionText): void => void new Flags(t.flags, {});
const STAGE_NAME = /^[a-z][a-z0-9-_.]*$/;

const exactlyOne = (kw: string, rest: string): string => {
  if (rest === '') throw new Error(`${kw} requires exactly one argument`);
  return rest;
};

const atLeastOne = <T>(kw: string, list: T[]): T[] => {
  if (list.length === 0) throw new Error(`${kw} requires at least one argument`);
  return list;
};

export const BUILDERS: Readonly<Record<string, (t: InstructionText) => Built>> = {
  from(t) {
    const args = splitFields(t.rest);
    let stageName: string | undefined;
    if (args.length === 3 && args[1]!.toLowerCase() === 'as') {
      stageName = args[2]!.toLowerCase();
      if (!STAGE_NAME.test(stageName)) throw new Error(`invalid name for build stage: ${JSON.stringify(args[2])}, name can't start with a number or contain symbols`);
    } else if (args.length !== 1) throw new Error('FROM requires either one or three arguments');
    const flags = new Flags(t.flags, { platform: 'string' });
    return { kind: 'from', image: args[0]!, stageName, platform: flags.nonEmpty('platform') };
  },
  run(t) {
    const flags = new Flags(t.flags, { mount: 'strings', network: 'string', security: 'string' });
    const network = flags.string('network');
    if (network !== undefined && !['default', 'none', 'host'].includes(network)) throw new Error(`invalid network mode ${JSON.stringify(network)}`);
    const security = flags.string('security');
    if (security !== undefined && !['sandbox', 'insecure'].includes(security)) throw new Error(`security ${JSON.stringify(security)} is not valid`);
    if (t.rest === '') throw new Error('RUN requires at least one argument');
    return {
      kind: 'run',
      command: commandLine(t.rest),
      heredocs: t.heredocs,
      mounts: flags.list('mount').map((spec) => parseMount(spec)),
      network: network as 'default' | 'none' | 'host' | undefined,
      security: security as 'sandbox' | 'insecure' | undefined,
    };
  },
  cmd(t) {
    noFlags(t);
    return { kind: 'cmd', command: commandLine(t.rest) };
  },
  entrypoint(t) {
    noFlags(t);
    return { kind: 'entrypoint', command: commandLine(t.rest) };
  },
  shell(t) {
    noFlags(t);
    const json = parseJsonArray(t.rest);
    if (t.rest === '' || (json && json.length === 0)) throw new Error('SHELL requires at least one argument');
    if (!json) throw new Error('SHELL requires the arguments to be in JSON form');
    return { kind: 'shell', shell: json };
  },
  env: (t) => ({ kind: 'env', pairs: keyValues('ENV', t) }),
  label: (t) => ({ kind: 'label', pairs: keyValues('LABEL', t) }),
  maintainer(t) {
    noFlags(t);
    return { kind: 'maintainer', maintainer: exactlyOne('MAINTAINER', t.rest) };
  },
  expose(t) {
    noFlags(t);
    return { kind: 'expose', ports: atLeastOne('EXPOSE', splitFields(t.rest)).sort() };
  },
  add(t): Omit<AddInstruction, 'startLine' | 'endLine'> {
    const f = new Flags(t.flags, { chown: 'string', chmod: 'string', link: 'bool', 'keep-git-dir': 'bool', checksum: 'string', unpack: 'bool', exclude: 'strings' });
    return { kind: 'add', ...transfer('ADD', t, f), keepGitDir: f.bool('keep-git-dir'), checksum: f.nonEmpty('checksum'), unpack: f.bool('unpack') };
  },
  copy(t): Omit<CopyInstruction, 'startLine' | 'endLine'> {
    const f = new Flags(t.flags, { chown: 'string', from: 'string', chmod: 'string', link: 'bool', exclude: 'strings', parents: 'bool' });
    return { kind: 'copy', ...transfer('COPY', t, f), from: f.nonEmpty('from'), parents: f.bool('parents') ?? false };
  },
  volume(t) {
    noFlags(t);
    const paths = atLeastOne('VOLUME', parseJsonArray(t.rest) ?? splitFields(t.rest)).map((p) => p.trim());
    if (paths.includes('')) throw new Error('VOLUME specified can not be an empty string');
    return { kind: 'volume', paths };
  },
  user(t) {
    noFlags(t);
    return { kind: 'user', user: exactlyOne('USER', t.rest) };
  },
  workdir(t) {
    noFlags(t);
    return { kind: 'workdir', path: exactlyOne('WORKDIR', t.rest) };
  },
  arg(t) {
    noFlags(t);
    const args = atLeastOne('ARG', parseWords(t.rest, t.escape)).map((w): ArgDecl => {
      const eq = w.indexOf('=');
      if (eq < 0) return { name: w };
      if (eq === 0) throw new Error('ARG names can not be blank');
      return { name: w.slice(0, eq), default: w.slice(eq + 1) };
    });
    return { kind: 'arg', args };
  },
  stopsignal(t) {
    noFlags(t);
    return { kind: 'stopsignal', signal: exactlyOne('STOPSIGNAL', t.rest) };
  },
  healthcheck: (t) => ({ kind: 'healthcheck', health: parseHealthcheck(t.rest, t.flags) }),
};

/** RUN/CMD/ENTRYPOINT: a JSON array of strings is exec form, anything else the shell form's text. */
function commandLine(rest: string): CommandLine {
  const json = parseJsonArray(rest);
  return json ? { form: 'exec', args: json } : { form: 'shell', command: rest };
}

/** ENV/LABEL: `k=v k2="v 2"` (each word split at its first `=`), or the legacy `k the value` (one pair). */
function keyValues(kw: 'ENV' | 'LABEL', t: InstructionText): KeyValue[] {
  noFlags(t);
  const words = atLeastOne(kw, parseWords(t.rest, t.escape));
  if (!words[0]!.includes('=')) {
    const m = /^(\S+)[\t\v\f\r ]+([\s\S]+)$/.exec(t.rest);
    if (!m) throw new Error(`${kw} must have two arguments`);
    return [{ key: m[1]!, value: m[2]! }];
  }
  return words.map((w) => {
    const eq = w.indexOf('=');
    if (eq < 0) throw new Error(`syntax error - can't find = in ${JSON.stringify(w)}. must be of the form: name=value`);
    if (eq === 0) throw new Error(`${kw} names can not be blank`);
    return { key: w.slice(0, eq), value: w.slice(eq + 1) };
  });
}

/** ADD/COPY: sources and destination (JSON or fields), heredoc sources, the flags both take. */
function transfer(kw: 'ADD' | 'COPY', t: InstructionText, f: Flags) {
  const args = parseJsonArray(t.rest) ?? splitFields(t.rest);
  if (args.length < 2) throw new Error(`${kw} requires at least two arguments, but only one was provided. destination could not be determined`);
  const dest = args[args.length - 1]!;
  if (safeMarker(dest)) throw new Error(`${kw} cannot accept a heredoc as a destination`);
  const sources: string[] = [];
  const inline: InlineSource[] = [];
  for (const src of args.slice(0, -1)) {
    const marker = safeMarker(src);
    if (!marker) sources.push(src);
    else inline.push({ name: marker.name, content: t.heredocs.find((h) => h.name === marker.name)?.content ?? '', expand: marker.expand });
  }
  return { sources, inline, dest, chown: f.nonEmpty('chown'), chmod: f.nonEmpty('chmod'), link: f.bool('link') ?? false, exclude: f.list('exclude') };
}

function safeMarker(word: string): ReturnType<typeof heredocMarker> {
  try {
    return heredocMarker(word);
  } catch {
    return undefined;
  }
}
