import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DockerfileError } from '../../../src/build/dockerfile/errors.js';
import { parseDockerfile } from '../../../src/build/dockerfile/parse.js';
import type { Instruction } from '../../../src/build/dockerfile/types.js';
import { UsageError } from '../../../src/errors.js';

const parse = (text: string): readonly Instruction[] => parseDockerfile(text).instructions;
const fails = (text: string, message: string): void => {
  assert.throws(() => parseDockerfile(text), (e: unknown) => e instanceof DockerfileError && e instanceof UsageError && e.message === message, message);
};

describe('Dockerfile parser errors (build/dockerfile/parse.ts)', () => {
  it('names the line and the problem, in lowercase sentences', () => {
    fails('FROM a\nRUN x\n\n# c\n\nRUN y\nCOPPY a b\n', 'dockerfile line 7: unknown instruction: COPPY');
    fails('FROM a\nENV\n', 'dockerfile line 2: ENV requires at least one argument');
    fails('FROM a\nENV onlykey\n', 'dockerfile line 2: ENV must have two arguments');
    fails('FROM a\nENV a=1 b\n', 'dockerfile line 2: syntax error - can\'t find = in "b". must be of the form: name=value');
    fails('FROM a\nLABEL =x\n', 'dockerfile line 2: LABEL names can not be blank');
    fails('FROM a\nCOPY onlyone\n', 'dockerfile line 2: COPY requires at least two arguments, but only one was provided. destination could not be determined');
    fails('FROM a\nCOPY a <<EOF\nx\nEOF\n', 'dockerfile line 2: COPY cannot accept a heredoc as a destination');
    fails('FROM a b\n', 'dockerfile line 1: FROM requires either one or three arguments');
    fails('FROM a AS 1x\n', 'dockerfile line 1: invalid name for build stage: "1x", name can\'t start with a number or contain symbols');
    fails('FROM a\nUSER\n', 'dockerfile line 2: USER requires exactly one argument');
    fails('FROM a\nWORKDIR\n', 'dockerfile line 2: WORKDIR requires exactly one argument');
    fails('FROM a\nSHELL /bin/sh -c\n', 'dockerfile line 2: SHELL requires the arguments to be in JSON form');
    fails('FROM a\nCMD ["a", 1]\n', 'dockerfile line 2: when using JSON array syntax, arrays must be comprised of strings only');
    fails('FROM a\nRUN\n', 'dockerfile line 2: RUN requires at least one argument');
    fails('', 'dockerfile line 1: file with no instructions');
    fails('# only a comment\n\n', 'dockerfile line 2: file with no instructions');
  });
  it('checks flags per instruction', () => {
    fails('FROM a\nCOPY --chwon=1 a b\n', 'dockerfile line 2: unknown flag: --chwon');
    fails('FROM a\nENV --x=1 a=b\n', 'dockerfile line 2: unknown flag: --x');
    fails('FROM a\nCOPY --from=a --from=b x y\n', 'dockerfile line 2: duplicate flag specified: --from');
    fails('FROM a\nCOPY --chown x y\n', 'dockerfile line 2: missing a value on flag: --chown');
    fails('FROM a\nCOPY --link=maybe x y\n', 'dockerfile line 2: expecting boolean value for flag --link, not: maybe');
    fails('FROM a\nRUN --network=bridge x\n', 'dockerfile line 2: invalid network mode "bridge"');
    fails('FROM a\nRUN --security=root x\n', 'dockerfile line 2: security "root" is not valid');
    fails('FROM a\nRUN --mount=type=nfs x\n', 'dockerfile line 2: unsupported mount type "nfs"');
    fails('FROM a\nRUN --mount=type=bind,uid=1 x\n', 'dockerfile line 2: uid not allowed for "bind" type mounts');
    fails('FROM a\nRUN --mount=type=secret x\n', 'dockerfile line 2: invalid secret mount. one of source, target required');
    fails('FROM a\nRUN --mount=type=bind,sharing=locked x\n', 'dockerfile line 2: invalid cache sharing set for bind mount');
    fails('FROM a\nRUN --mount=type=cache,required x\n', "dockerfile line 2: unexpected key 'required' for mount type 'cache'");
    fails('FROM a\nRUN --mount=from=$X,target=/x x\n', "dockerfile line 2: 'from' doesn't support variable expansion, define alias stage instead");
    fails('FROM a\nHEALTHCHECK --interval=10 CMD x\n', 'dockerfile line 2: time: missing unit in duration "10"');
    fails('FROM a\nHEALTHCHECK --timeout=100us CMD x\n', 'dockerfile line 2: interval "timeout" cannot be less than 1ms');
    fails('FROM a\nHEALTHCHECK --retries=-1 CMD x\n', 'dockerfile line 2: --retries cannot be negative (-1)');
    fails('FROM a\nHEALTHCHECK NONE x\n', 'dockerfile line 2: HEALTHCHECK NONE takes no arguments');
    fails('FROM a\nHEALTHCHECK CMD\n', 'dockerfile line 2: missing command after HEALTHCHECK CMD');
    fails('FROM a\nHEALTHCHECK EXEC x\n', 'dockerfile line 2: unknown type "EXEC" in HEALTHCHECK (try CMD)');
  });
  it('refuses ONBUILD ONBUILD, FROM and MAINTAINER triggers, and bad triggers', () => {
    fails('FROM a\nONBUILD ONBUILD RUN x\n', 'dockerfile line 2: chaining ONBUILD via `ONBUILD ONBUILD` isn\'t allowed');
    fails('FROM a\nONBUILD from b\n', "dockerfile line 2: FROM isn't allowed as an ONBUILD trigger");
    fails('FROM a\nONBUILD MAINTAINER me\n', "dockerfile line 2: MAINTAINER isn't allowed as an ONBUILD trigger");
    fails('FROM a\nONBUILD\n', 'dockerfile line 2: ONBUILD requires at least one argument');
    fails('FROM a\nONBUILD COPPY a b\n', 'dockerfile line 2: unknown instruction: COPPY');
  });
  it('reports heredocs that never end and directive mistakes', () => {
    fails('FROM a\nRUN <<EOF\necho\n', 'dockerfile line 2: unterminated heredoc');
    fails('FROM a\nRUN <<-EOF cat <<EOT\n\tx\n\tEOF\ny\n', 'dockerfile line 2: unterminated heredoc');
    fails('# escape=x\nFROM a\n', "dockerfile line 1: invalid escape token 'x' does not match ` or \\");
    fails('# escape=`\n# escape=\\\nFROM a\n', 'dockerfile line 2: only one escape parser directive can be used');
  });
});

describe('Dockerfile parser (build/dockerfile/parse.ts)', () => {
  it('reads keywords case-insensitively and keeps 1-based start and end lines', () => {
    const [from, run, env] = parse('\n\nfrom alpine\nRun echo \\\n  a \\\n  b\nEnv A=1\n');
    assert.deepEqual([from!.kind, from!.startLine, from!.endLine], ['from', 3, 3]);
    assert.deepEqual([run!.kind, run!.startLine, run!.endLine], ['run', 4, 6]);
    assert.deepEqual([env!.kind, env!.startLine], ['env', 7]);
  });
  it('skips comments and blank lines inside continuations, warning about blank ones', () => {
    const df = parseDockerfile('FROM a\nRUN a \\\n# note\n  \\\n\n b\n');
    const run = df.instructions[1]!;
    assert.equal(run.kind === 'run' && run.command.form === 'shell' ? run.command.command : '', 'a    b');
    assert.equal(run.endLine, 6);
    assert.equal(df.warnings.length, 1);
  });
  it('honours an escaped escape at the end of a line (no continuation)', () => {
    const [, run, user] = parse('FROM a\nRUN echo x\\\\\nUSER me\n');
    assert.equal(run!.kind === 'run' && run!.command.form === 'shell' && run!.command.command, 'echo x\\\\');
    assert.equal(user!.kind, 'user');
  });
  it('stops reading directives at the first other line', () => {
    const df = parseDockerfile('FROM a\n# escape=`\nRUN a \\\n b\n');
    assert.equal(df.directives.escape, '\\');
    assert.equal(df.instructions.length, 2);
    const late = parseDockerfile('# unknown=1\n# escape=`\nFROM a\n');
    assert.equal(late.directives.escape, '\\');
  });
  it('uses the escape directive for continuations and word escapes', () => {
    const [, run, env] = parse('# escape=`\nFROM a\nRUN dir c:\\ `\n  && echo\nENV A="x`"y"\n');
    assert.equal(run!.kind === 'run' && run!.command.form === 'shell' && run!.command.command, 'dir c:\\   && echo');
    assert.deepEqual(env!.kind === 'env' && env!.pairs, [{ key: 'A', value: '"x`"y"' }]);
  });
  it('reads ARG names and defaults, and ENV/LABEL pairs with quotes kept for expansion', () => {
    const [, arg, label] = parse('FROM a\nARG A B=2 C="x y" D=\nLABEL "com.x"="a b" c=d\n');
    assert.deepEqual(arg!.kind === 'arg' && arg!.args, [{ name: 'A' }, { name: 'B', default: '2' }, { name: 'C', default: '"x y"' }, { name: 'D', default: '' }]);
    assert.deepEqual(label!.kind === 'label' && label!.pairs, [{ key: '"com.x"', value: '"a b"' }, { key: 'c', value: 'd' }]);
  });
  it('does not read heredocs for exec-form RUN or instructions that take none', () => {
    const [, run, cmd, user] = parse('FROM a\nRUN ["cat", "<<EOF"]\nCMD cat <<EOF\nUSER EOF\n');
    assert.deepEqual(run!.kind === 'run' && run!.heredocs, []);
    assert.equal(cmd!.kind, 'cmd');
    assert.equal(user!.kind, 'user');
  });
  it('does not end a heredoc at an indented terminator without <<-', () => {
    const [, run] = parse('FROM a\nRUN <<EOF\n  EOF\nEOF\n');
    assert.deepEqual(run!.kind === 'run' && run!.heredocs.map((h) => h.content), ['  EOF\n']);
  });
  it('treats a partly quoted heredoc name as quoted', () => {
    const [, run] = parse('FROM a\nRUN <<E"O"F\n$X\nEOF\n');
    assert.deepEqual(run!.kind === 'run' && run!.heredocs.map((h) => [h.name, h.expand]), [['EOF', false]]);
  });
  it('ends flags at -- and keeps the rest as arguments', () => {
    const [, copy] = parse('FROM a\nCOPY --link -- --weird /dst\n');
    assert.deepEqual(copy!.kind === 'copy' && [copy!.link, copy!.sources], [true, ['--weird']]);
  });
  it('strips a byte order mark and accepts CRLF line endings', () => {
    const [from, run] = parse('\uFEFFFROM a\r\nRUN a \\\r\n b\r\n');
    assert.equal(from!.kind === 'from' && from!.image, 'a');
    assert.equal(run!.kind === 'run' && run!.command.form === 'shell' && run!.command.command, 'a  b');
  });
});
