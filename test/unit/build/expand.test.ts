import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DockerfileError } from '../../../src/build/dockerfile/errors.js';
import { expand, lookupIn } from '../../../src/build/dockerfile/expand.js';
import { expandInstruction } from '../../../src/build/dockerfile/expand-instruction.js';
import { parseDockerfile } from '../../../src/build/dockerfile/parse.js';
import type { Instruction } from '../../../src/build/dockerfile/types.js';

const vars = lookupIn({ A: 'a', E: '', P: '/usr/local/bin/tool.tar.gz', S: 'x y', U: 'üñ' });
const v = (text: string, escape: '\\' | '`' = '\\'): string => expand(text, vars, { escape }).value;

describe('variable substitution (build/dockerfile/expand.ts)', () => {
  it('substitutes $V and ${V}; an unset variable is empty', () => {
    assert.equal(v('$A-${A}_$Au'), 'a-a_');
    assert.equal(v('${NOPE}x$NOPE'), 'x');
    assert.equal(v('$ $1 $'), '$  $');
    assert.equal(v('${U}!'), 'üñ!');
  });
  it('applies the default and alternative modifiers with and without the colon', () => {
    assert.equal(v('${NOPE:-d} ${E:-d} ${A:-d}'), 'd d a');
    assert.equal(v('${NOPE-d}|${E-d}|${A-d}'), 'd||a');
    assert.equal(v('${NOPE:+x}|${E:+x}|${A:+x}'), '||x');
    assert.equal(v('${NOPE+x}|${E+x}|${A+x}'), '|x|x');
    assert.equal(v('${NOPE:-$A/${A}}'), 'a/a');
  });
  it('fails ${V:?msg} and ${V?msg} with the message', () => {
    assert.throws(() => v('${NOPE:?must be set}'), /failed to process "\$\{NOPE:\?must be set\}": NOPE: must be set/);
    assert.throws(() => v('${E:?}'), /E: is not allowed to be empty/);
    assert.throws(() => v('${NOPE?}'), /NOPE: is not allowed to be unset/);
    assert.equal(v('${E?}'), '');
  });
  it('removes prefixes and suffixes, shortest and longest', () => {
    assert.equal(v('${P#*/}'), 'usr/local/bin/tool.tar.gz');
    assert.equal(v('${P##*/}'), 'tool.tar.gz');
    assert.equal(v('${P%.*}'), '/usr/local/bin/tool.tar');
    assert.equal(v('${P%%.*}'), '/usr/local/bin/tool');
    assert.equal(v('${P#nomatch}'), '/usr/local/bin/tool.tar.gz');
    assert.throws(() => v('${P:#x}'), /unsupported modifier \(:#\) in substitution/);
  });
  it('replaces the first or every match', () => {
    assert.equal(v('${P/\\//:}'), ':usr/local/bin/tool.tar.gz');
    assert.equal(v('${P//\\//:}'), ':usr:local:bin:tool.tar.gz');
    assert.equal(v('${P//o/0}'), '/usr/l0cal/bin/t00l.tar.gz');
  });
  it('keeps single-quoted text literal, expands inside double quotes, honours escapes', () => {
    assert.equal(v(`'$A' "$A" \\$A "\\$A" "a\\nb" 'it''s'`), '$A a $A $A a\\nb its');
    assert.equal(v('`$A and \\$A', '`'), '$A and \\a');
    assert.equal(v('"x`"y"', '`'), 'x"y');
  });
  it('reports syntax errors', () => {
    assert.throws(() => v('${A'), /syntax error: missing '}'/);
    assert.throws(() => v('${}'), /bad substitution/);
    assert.throws(() => v('${A:x}'), /unsupported modifier \(:x\)/);
    assert.throws(() => v('"open'), /matching double-quote/);
    assert.throws(() => v("'open"), /matching single-quote/);
  });
  it('splits words after substitution, keeping quoted blanks', () => {
    assert.deepEqual(expand('$S "$S" z', vars).words, ['x', 'y', 'x y', 'z']);
  });
  it('reports which variables an expansion looked up', () => {
    const e = expand('${A}-${NOPE:-x}-$E', vars);
    assert.deepEqual([...e.used].sort(), ['A', 'E']);
    assert.deepEqual([...e.missing], ['NOPE']);
  });
});

describe('which instructions expand (build/dockerfile/expand-instruction.ts)', () => {
  const insts = parseDockerfile(
    [
      'FROM $IMG',
      'ENV $K="$V x" L=${V}',
      'LABEL "k"="$V"',
      'COPY --chown=$U:$U --chmod=$M "$SRC" ${DST}/',
      'COPY <<EOF <<"RAW" /d/',
      '$V "q"',
      'EOF',
      '$V',
      'RAW',
      'ADD --checksum=$SUM $URL /x',
      'EXPOSE $PORTS 9/udp',
      'USER $U',
      'WORKDIR /w/$V',
      'STOPSIGNAL $SIG',
      'VOLUME $V /v',
      'ARG X=$V',
      'RUN --mount=type=cache,target=$T,uid=$UID echo $V',
      'CMD echo $V',
      'ONBUILD RUN echo $V',
    ].join('\n'),
  ).instructions;
  const values = lookupIn({ IMG: 'alpine', K: 'KEY', V: 'val', U: 'app', M: '600', SRC: 'a b', DST: '/dst', SUM: 'sha256:x', URL: 'https://x/y', PORTS: '80 443', SIG: 'SIGTERM', T: '/cache', UID: '1000' });
  const ex = (i: number): Instruction => expandInstruction(insts[i]!, values).instruction;
  it('expands the words docker expands', () => {
    assert.deepEqual(ex(0), { ...insts[0], image: 'alpine', platform: undefined });
    assert.deepEqual((ex(1) as Extract<Instruction, { kind: 'env' }>).pairs, [{ key: 'KEY', value: 'val x' }, { key: 'L', value: 'val' }]);
    assert.deepEqual((ex(2) as Extract<Instruction, { kind: 'label' }>).pairs, [{ key: 'k', value: 'val' }]);
    const copy = ex(3) as Extract<Instruction, { kind: 'copy' }>;
    assert.deepEqual([copy.chown, copy.chmod, copy.sources, copy.dest], ['app:app', '600', ['a b'], '/dst/']);
    const inline = (ex(4) as Extract<Instruction, { kind: 'copy' }>).inline;
    assert.deepEqual(inline.map((s) => s.content), ['val "q"\n', '$V\n']);
    assert.equal((ex(5) as Extract<Instruction, { kind: 'add' }>).checksum, 'sha256:x');
    assert.deepEqual((ex(6) as Extract<Instruction, { kind: 'expose' }>).ports, ['80', '443', '9/udp']);
    assert.equal((ex(7) as Extract<Instruction, { kind: 'user' }>).user, 'app');
    assert.equal((ex(8) as Extract<Instruction, { kind: 'workdir' }>).path, '/w/val');
    assert.equal((ex(9) as Extract<Instruction, { kind: 'stopsignal' }>).signal, 'SIGTERM');
    assert.deepEqual((ex(10) as Extract<Instruction, { kind: 'volume' }>).paths, ['val', '/v']);
    assert.deepEqual((ex(11) as Extract<Instruction, { kind: 'arg' }>).args, [{ name: 'X', default: 'val' }]);
    const mount = (ex(12) as Extract<Instruction, { kind: 'run' }>).mounts[0]!;
    assert.deepEqual([mount.target, mount.uid], ['/cache', 1000]);
  });
  it('leaves command lines and ONBUILD as written', () => {
    const run = ex(12) as Extract<Instruction, { kind: 'run' }>;
    assert.deepEqual(run.command, { form: 'shell', command: 'echo $V' });
    assert.deepEqual(ex(13), insts[13]);
    assert.deepEqual(ex(14), insts[14]);
  });
  it('reports the variables an instruction used, and the unset ones', () => {
    const r = expandInstruction(insts[3]!, lookupIn({ U: 'u' }));
    assert.deepEqual([...r.used], ['U']);
    assert.deepEqual([...r.missing].sort(), ['DST', 'M', 'SRC']);
  });
  it('names the instruction line when an expansion fails', () => {
    const [, user] = parseDockerfile('FROM a\nUSER ${NAME:?set NAME}\n').instructions;
    assert.throws(() => expandInstruction(user!, lookupIn({})), (e: unknown) => e instanceof DockerfileError && /^dockerfile line 2: failed to process "\$\{NAME:\?set NAME\}": NAME: set NAME$/.test(e.message));
  });
});
