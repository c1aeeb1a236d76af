import { UsageError } from '../../errors.js';
import { goString, isTruthy, templateFuncs } from './template-funcs.js';

/**
 * A Go text/template subset, enough for docker's `--format`: fields (`.A.B`), variables (`$`, `$x`),
 * pipelines with functions, `if`/`else if`/`else`, `range` (with `$k, $v :=`), `with`, trim markers.
 */
type Node =
  | { t: 'text'; s: string }
  | { t: 'action'; pipe: Pipeline }
  | { t: 'if' | 'with'; pipe: Pipeline; body: Node[]; alt: Node[] }
  | { t: 'range'; pipe: Pipeline; vars: string[]; body: Node[]; alt: Node[] };

interface Pipeline {
  decl?: string[];
  cmds: Operand[][];
}

type Operand =
  | { k: 'field'; base: 'dot' | string; path: string[] }
  | { k: 'lit'; v: unknown }
  | { k: 'fn'; name: string }
  | { k: 'sub'; pipe: Pipeline; path: string[] };

export class Template {
  private readonly nodes: Node[];
  constructor(readonly source: string) {
    this.nodes = parse(source);
  }

  execute(data: unknown): string {
    const out: string[] = [];
    run(this.nodes, data, new Map([['$', data]]), out);
    return out.join('');
  }
}

function fail(message: string): never {
  throw new UsageError(`template: ${message}`);
}

function lexActions(src: string): Array<{ text: string } | { action: string }> {
  const parts: Array<{ text: string } | { action: string }> = [];
  let i = 0;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    if (open < 0) {
      parts.push({ text: src.slice(i) });
      break;
    }
    let text = src.slice(i, open);
    let start = open + 2;
    if (src.startsWith('- ', start) || src.startsWith('-\t', start) || src.startsWith('-\n', start)) {
      text = text.replace(/\s+$/, '');
      start += 1;
    }
    if (text) parts.push({ text });
    const close = src.indexOf('}}', start);
    if (close < 0) fail(`unclosed action in "${src}"`);
    let body = src.slice(start, close);
    i = close + 2;
    if (/\s-$/.test(body)) {
      body = body.slice(0, -1);
      const m = /^\s*/.exec(src.slice(i))!;
      i += m[0].length;
    }
    parts.push({ action: body.trim() });
  }
  return parts;
}

function tokenize(action: string): string[] {
  const re = /\s*("(?:[^"\\]|\\.)*"|`[^`]*`|:=|\||\(|\)|,|[^\s|(),]+)/gy;
  const tokens: string[] = [];
  let m: RegExpExecArray | null;
  while ((m = re.exec(action)) && m[1] !== undefined) tokens.push(m[1]);
  if (re.lastIndex < action.trimEnd().length && tokens.join('').length === 0) fail(`bad action "${action}"`);
  return tokens;
}

function parsePipeline(tokens: string[], pos = { i: 0 }, stop = ''): Pipeline {
  const pipe: Pipeline = { cmds: [] };
  const declAt = tokens.indexOf(':=', pos.i);
  if (declAt > 0 && tokens.slice(pos.i, declAt).every((t) => t.startsWith('$') || t === ',')) {
    pipe.decl = tokens.slice(pos.i, declAt).filter((t) => t !== ',');
    pos.i = declAt + 1;
  }
  let cmd: Operand[] = [];
  while (pos.i < tokens.length && tokens[pos.i] !== stop) {
    const tok = tokens[pos.i++]!;
    if (tok === '|') {
      if (!cmd.length) fail('missing command before |');
      pipe.cmds.push(cmd);
      cmd = [];
    } else if (tok === '(') {
      const sub = parsePipeline(tokens, pos, ')');
      pos.i++;
      let path: string[] = [];
      if (tokens[pos.i]?.startsWith('.')) path = tokens[pos.i++]!.split('.').slice(1);
      cmd.push({ k: 'sub', pipe: sub, path });
    } else cmd.push(operand(tok));
  }
  if (cmd.length) pipe.cmds.push(cmd);
  if (!pipe.cmds.length) fail('missing value for command');
  return pipe;
}

function operand(tok: string): Operand {
  if (tok === '.') return { k: 'field', base: 'dot', path: [] };
  if (tok.startsWith('.')) return { k: 'field', base: 'dot', path: tok.split('.').slice(1) };
  if (tok.startsWith('$')) {
    const [name, ...path] = tok.split('.');
    return { k: 'field', base: name!, path };
  }
  if (tok.startsWith('"')) return { k: 'lit', v: JSON.parse(tok) };
  if (tok.startsWith('`')) return { k: 'lit', v: tok.slice(1, -1) };
  if (/^-?\d+(\.\d+)?$/.test(tok)) return { k: 'lit', v: Number(tok) };
  if (tok === 'true' || tok === 'false') return { k: 'lit', v: tok === 'true' };
  if (tok === 'nil') return { k: 'lit', v: null };
  if (/^[A-Za-z_]\w*$/.test(tok)) return { k: 'fn', name: tok };
  return fail(`unexpected "${tok}" in command`);
}

function parse(src: string): Node[] {
  const parts = lexActions(src);
  let i = 0;
  const block = (enders: string[]): { nodes: Node[]; end: string } => {
    const nodes: Node[] = [];
    while (i < parts.length) {
      const p = parts[i++]!;
      if ('text' in p) {
        nodes.push({ t: 'text', s: p.text });
        continue;
      }
      const a = p.action;
      if (a.startsWith('/*')) continue;
      const kw = /^(\w+)/.exec(a)?.[1] ?? '';
      if (enders.includes(kw) || (kw === 'else' && enders.includes('else'))) return { nodes, end: a };
      if (kw === 'if' || kw === 'with' || kw === 'range') nodes.push(control(kw, a.slice(kw.length)));
      else if (kw === 'end' || kw === 'else') fail(`unexpected {{${a}}}`);
      else nodes.push({ t: 'action', pipe: parsePipeline(tokenize(a)) });
    }
    if (enders.length) fail('unexpected EOF: missing {{end}}');
    return { nodes, end: '' };
  };
  const control = (kw: 'if' | 'with' | 'range', rest: string): Node => {
    const pipe = parsePipeline(tokenize(rest));
    const body = block(['end', 'else']);
    let alt: Node[] = [];
    if (body.end.startsWith('else')) {
      const elseRest = body.end.slice(4).trim();
      if (elseRest.startsWith('if ') || elseRest.startsWith('with ')) {
        const kw2 = elseRest.startsWith('if ') ? 'if' : 'with';
        alt = [control(kw2, elseRest.slice(kw2.length))];
      } else alt = block(['end']).nodes;
    }
    if (kw === 'range') return { t: 'range', pipe, vars: pipe.decl ?? [], body: body.nodes, alt };
    return { t: kw, pipe, body: body.nodes, alt };
  };
  return block([]).nodes;
}

function field(value: unknown, path: string[]): unknown {
  let v = value;
  for (const name of path) {
    if (v === null || v === undefined) fail(`nil pointer evaluating .${path.join('.')}`);
    if (v instanceof Map) {
      v = v.get(name);
      continue;
    }
    if (typeof v !== 'object') fail(`can't evaluate field ${name} in type ${typeof v}`);
    const obj = v as Record<string, unknown>;
    if (name in obj) v = obj[name];
    else {
      const key = Object.keys(obj).find((k) => k.toLowerCase() === name.toLowerCase());
      if (key === undefined) {
        if (isPlainMap(obj)) v = undefined;
        else fail(`can't evaluate field ${name}`);
      } else v = obj[key];
    }
  }
  return v;
}

/** Objects we built as Go maps (labels, env maps) allow missing keys; structs do not. */
function isPlainMap(obj: object): boolean {
  return (obj as { __map?: boolean }).__map === true || Object.getPrototypeOf(obj) === null;
}

function evalPipe(pipe: Pipeline, dot: unknown, vars: Map<string, unknown>): unknown {
  let prev: unknown;
  let hasPrev = false;
  for (const cmd of pipe.cmds) {
    const [head, ...args] = cmd;
    if (head!.k === 'fn') {
      const fn = templateFuncs[head!.name];
      if (!fn) fail(`function "${head!.name}" not defined`);
      const vals = args.map((a) => evalOperand(a, dot, vars));
      if (hasPrev) vals.push(prev);
      prev = fn(...vals);
    } else {
      if (args.length) fail(`can't give argument to non-function`);
      prev = evalOperand(head!, dot, vars);
    }
    hasPrev = true;
  }
  if (pipe.decl?.length === 1) vars.set(pipe.decl[0]!, prev);
  return prev;
}

function evalOperand(op: Operand, dot: unknown, vars: Map<string, unknown>): unknown {
  switch (op.k) {
    case 'lit':
      return op.v;
    case 'fn': {
      const fn = templateFuncs[op.name];
      if (!fn) fail(`function "${op.name}" not defined`);
      return fn();
    }
    case 'sub':
      return field(evalPipe(op.pipe, dot, vars), op.path);
    case 'field': {
      if (op.base === 'dot') return field(dot, op.path);
      if (!vars.has(op.base)) fail(`undefined variable: ${op.base}`);
      return field(vars.get(op.base), op.path);
    }
  }
}

function run(nodes: Node[], dot: unknown, vars: Map<string, unknown>, out: string[]): void {
  for (const n of nodes) {
    if (n.t === 'text') out.push(n.s);
    else if (n.t === 'action') {
      const v = evalPipe(n.pipe, dot, vars);
      if (!n.pipe.decl) out.push(goString(v));
    } else if (n.t === 'if') {
      run(isTruthy(evalPipe(n.pipe, dot, vars)) ? n.body : n.alt, dot, vars, out);
    } else if (n.t === 'with') {
      const v = evalPipe(n.pipe, dot, vars);
      run(isTruthy(v) ? n.body : n.alt, isTruthy(v) ? v : dot, vars, out);
    } else if (n.t === 'range') {
      const coll = evalPipe({ cmds: n.pipe.cmds }, dot, vars);
      const entries = iterate(coll);
      if (!entries.length) run(n.alt, dot, vars, out);
      for (const [k, v] of entries) {
        const scope = new Map(vars);
        if (n.vars.length === 1) scope.set(n.vars[0]!, v);
        if (n.vars.length === 2) {
          scope.set(n.vars[0]!, k);
          scope.set(n.vars[1]!, v);
        }
        run(n.body, v, scope, out);
      }
    }
  }
}

function iterate(coll: unknown): Array<[unknown, unknown]> {
  if (coll === null || coll === undefined) return [];
  if (Array.isArray(coll)) return coll.map((v, i) => [i, v]);
  if (coll instanceof Map) return [...coll.entries()].sort(([a], [b]) => String(a).localeCompare(String(b)));
  if (typeof coll === 'object') return Object.keys(coll).filter((k) => k !== '__map').sort().map((k) => [k, (coll as Record<string, unknown>)[k]]);
  if (typeof coll === 'number') return Array.from({ length: coll }, (_, i) => [i, i]);
  return fail(`range can't iterate over ${goString(coll)}`);
}
