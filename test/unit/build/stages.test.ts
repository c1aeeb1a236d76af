import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DockerfileError } from '../../../src/build/dockerfile/errors.js';
import { parseDockerfile } from '../../../src/build/dockerfile/parse.js';
import { StageScope } from '../../../src/build/dockerfile/scope.js';
import { resolveTarget, splitStages, stageGraph, stagesFor } from '../../../src/build/dockerfile/stages.js';
import type { ArgInstruction } from '../../../src/build/dockerfile/types.js';

const plan = (text: string, input = {}) => splitStages(parseDockerfile(text), input);
const platform = { TARGETPLATFORM: 'linux/arm64', TARGETOS: 'linux', TARGETARCH: 'arm64', TARGETVARIANT: '', BUILDPLATFORM: 'linux/amd64', BUILDOS: 'linux', BUILDARCH: 'amd64', BUILDVARIANT: '' };

/** Runs a stage's ARG and ENV lines through a scope, as a builder would, and looks `names` up after them. */
function scopeAfter(text: string, input: object, names: string[], baseEnv: string[] = []): Record<string, string | undefined> {
  const p = plan(text, input);
  const stage = p.stages[p.stages.length - 1]!;
  const scope = new StageScope(p.globalArgs, input, baseEnv);
  for (const i of stage.instructions) {
    if (i.kind === 'arg') for (const a of (i as ArgInstruction).args) scope.declare(a);
    if (i.kind === 'env') for (const kv of i.pairs) scope.setEnv(kv.key, kv.value);
  }
  return Object.fromEntries(names.map((n) => [n, scope.lookup(n)]));
}

describe('build stages (build/dockerfile/stages.ts)', () => {
  it('splits stages, keeps the global ARGs and expands FROM with them', () => {
    const p = plan('ARG BASE=alpine\nARG TAG\nFROM ${BASE}:${TAG:-3} AS One\nRUN a\nFROM one\nRUN b\nFROM busybox\n', { buildArgs: { TAG: '3.20' } });
    assert.deepEqual(p.stages.map((s) => [s.index, s.name, s.base, s.baseStage, s.instructions.length]), [
      [0, 'one', 'alpine:3.20', undefined, 1],
      [1, undefined, 'one', 0, 1],
      [2, undefined, 'busybox', undefined, 0],
    ]);
    assert.deepEqual([...p.stages[0]!.usedArgs].sort(), ['BASE', 'TAG']);
    assert.deepEqual(p.globalDecls, [{ name: 'BASE', default: 'alpine' }, { name: 'TAG' }]);
  });
  it('sees the automatic platform args in FROM lines', () => {
    const p = plan('FROM --platform=$BUILDPLATFORM golang AS b\nFROM --platform=${TARGETPLATFORM} alpine:${TARGETARCH}\n', { platform });
    assert.deepEqual(p.stages.map((s) => [s.base, s.platform]), [['golang', 'linux/amd64'], ['alpine:arm64', 'linux/arm64']]);
  });
  it('refuses instructions before FROM other than ARG, duplicate names, blank bases', () => {
    assert.throws(() => plan('ENV A=1\nFROM a\n'), (e: unknown) => e instanceof DockerfileError && e.message === 'dockerfile line 1: no build stage in current context: ENV before the first FROM');
    assert.throws(() => plan('FROM a AS x\nFROM b AS X\n'), /dockerfile line 2: duplicate stage name "x"/);
    assert.throws(() => plan('ARG B\nFROM $B\n'), /dockerfile line 2: base name \(\$B\) should not be blank/);
    assert.throws(() => plan('ARG A\n'), /no FROM instruction/);
  });
  it('resolves --target case-insensitively, the last stage by default', () => {
    const p = plan('FROM a AS build\nFROM b AS test\nFROM c\n');
    assert.equal(resolveTarget(p).index, 2);
    assert.equal(resolveTarget(p, 'TEST').index, 1);
    assert.throws(() => resolveTarget(p, 'nope'), /target stage "nope" could not be found/);
  });
});

describe('build-arg scoping (build/dockerfile/scope.ts)', () => {
  it('makes a global ARG visible in a stage only after it is declared there', () => {
    const text = 'ARG V=global\nARG W=w\nFROM a\nARG V\n';
    assert.deepEqual(scopeAfter(text, {}, ['V', 'W']), { V: 'global', W: undefined });
  });
  it('lets --build-arg override only declared ARGs', () => {
    const input = { buildArgs: { V: 'cli', UNDECLARED: 'x' } };
    assert.deepEqual(scopeAfter('FROM a\nARG V=default\n', input, ['V', 'UNDECLARED']), { V: 'cli', UNDECLARED: undefined });
  });
  it('expands ARG defaults with what is visible at that point', () => {
    assert.deepEqual(scopeAfter('FROM a\nARG A=1\nARG B=${A}-2\nARG C=${LATER}\nARG LATER=x\n', {}, ['B', 'C']), { B: '1-2', C: '' });
  });
  it('lets ENV (the stage\'s and the base image\'s) shadow ARG', () => {
    assert.deepEqual(scopeAfter('FROM a\nARG V=arg\nENV V=env\n', { buildArgs: { V: 'cli' } }, ['V']), { V: 'env' });
    assert.deepEqual(scopeAfter('FROM a\nARG PATH=/arg\n', {}, ['PATH'], ['PATH=/usr/bin']), { PATH: '/usr/bin' });
  });
  it('exposes the proxy args without declaration, only when given', () => {
    assert.deepEqual(scopeAfter('FROM a\n', { buildArgs: { HTTP_PROXY: 'http://p:3128', no_proxy: 'local' } }, ['HTTP_PROXY', 'no_proxy', 'HTTPS_PROXY']), {
      HTTP_PROXY: 'http://p:3128',
      no_proxy: 'local',
      HTTPS_PROXY: undefined,
    });
  });
  it('gives the platform args to a stage only after ARG declares them', () => {
    assert.deepEqual(scopeAfter('FROM a\nARG TARGETARCH\n', { platform }, ['TARGETARCH', 'TARGETOS']), { TARGETARCH: 'arm64', TARGETOS: undefined });
  });
});

describe('stage dependencies (build/dockerfile/stages.ts)', () => {
  const text = [
    'FROM golang AS build',
    'FROM node AS web',
    'FROM web AS webtest',
    'FROM alpine AS final',
    'COPY --from=build /app /app',
    'COPY --from=1 /dist /dist',
    'COPY --from=nginx:latest /etc/nginx /etc/nginx',
    'RUN --mount=from=build,target=/b --mount=type=cache,target=/c true',
  ].join('\n');
  it('lists each stage\'s direct dependencies and the images it copies from', () => {
    const g = stageGraph(plan(text));
    assert.deepEqual(g[2], { index: 2, dependsOn: [{ stage: 1, via: 'from', line: 3 }], images: [] });
    assert.deepEqual(g[3], {
      index: 3,
      dependsOn: [
        { stage: 0, via: 'copy', line: 5 },
        { stage: 1, via: 'copy', line: 6 },
        { stage: 0, via: 'mount', line: 8 },
      ],
      images: ['nginx:latest'],
    });
    assert.deepEqual(g[0]!.dependsOn, []);
  });
  it('returns the stages a target needs, skipping unrelated ones', () => {
    const p = plan(text);
    assert.deepEqual(stagesFor(p, resolveTarget(p)), [0, 1, 3]);
    assert.deepEqual(stagesFor(p, resolveTarget(p, 'webtest')), [1, 2]);
  });
  it('refuses references to later stages, bad indices and variables in --from', () => {
    assert.throws(() => stageGraph(plan('FROM a AS x\nCOPY --from=y /a /b\nFROM b AS y\n')), /the stage must be defined before the current one/);
    assert.throws(() => stageGraph(plan('FROM a\nCOPY --from=3 /a /b\n')), /dockerfile line 2: invalid stage index 3/);
    assert.throws(() => stageGraph(plan('FROM a\nCOPY --from=$S /a /b\n')), /variable expansion is not supported for --from/);
  });
});
