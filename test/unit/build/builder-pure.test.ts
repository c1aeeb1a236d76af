import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseDockerfile } from '../../../src/build/dockerfile/parse.js';
import type { Instruction } from '../../../src/build/dockerfile/types.js';
import { cacheKey, canonical, sourcesDigest, type SourceRecord } from '../../../src/build/builder/cache-key.js';
import { applyConfig, exposedPorts, setEnv, workdirPath, type StageFlags } from '../../../src/build/builder/config.js';
import { cleanSource, componentPattern, expandSource, landing, resolveDest } from '../../../src/build/builder/copy-paths.js';
import { cmpPath, orderItems, parentItems, type CopyItem } from '../../../src/build/builder/copy-items.js';
import { parseChmod, resolveChown } from '../../../src/build/builder/owner.js';
import { runArgv, runEnv } from '../../../src/build/builder/run-step.js';
import { stepText } from '../../../src/build/builder/build.js';
import type { ImageConfig } from '../../../src/image/manifest.js';
import type fs from 'node:fs';
import { withoutMountSkeleton } from '../../../src/container/changes.js';

const one = (line: string): Instruction => parseDockerfile(`FROM x\n${line}\n`).instructions[1]!;
const base: ImageConfig = { architecture: 'amd64', os: 'linux', config: { Env: ['PATH=/bin'], Cmd: ['sh'] }, rootfs: { type: 'layers', diff_ids: [] } };

describe('build cache key', () => {
  const inst = one('COPY a /b');
  it('ignores line numbers and key order, depends on parent, args and sources', () => {
    const moved = { ...inst, startLine: 40, endLine: 40 };
    const k = cacheKey({ parent: 'p', instruction: inst, args: { A: '1', B: '2' } });
    assert.equal(cacheKey({ parent: 'p', instruction: moved, args: { B: '2', A: '1' } }), k);
    assert.notEqual(cacheKey({ parent: 'q', instruction: inst, args: { A: '1', B: '2' } }), k);
    assert.notEqual(cacheKey({ parent: 'p', instruction: inst, args: { A: '1', B: '3' } }), k);
    assert.notEqual(cacheKey({ parent: 'p', instruction: inst, args: { A: '1', B: '2' }, sources: 'sha256:x' }), k);
    assert.notEqual(cacheKey({ parent: 'p', instruction: one('COPY a /c'), args: { A: '1', B: '2' } }), k);
    assert.equal(canonical({ b: 1, a: { d: 1, c: 2 } }), '{"a":{"c":2,"d":1},"b":1}');
  });
  it('sources: content, mode and owner count, their order does not', () => {
    const a: SourceRecord = { dest: '/a', type: 'file', mode: 0o644, uid: 0, gid: 0, content: 'h1' };
    const b: SourceRecord = { dest: '/b', type: 'file', mode: 0o644, uid: 0, gid: 0, content: 'h2' };
    assert.equal(sourcesDigest([a, b]), sourcesDigest([b, a]));
    assert.notEqual(sourcesDigest([a, b]), sourcesDigest([{ ...a, mode: 0o600 }, b]));
    assert.notEqual(sourcesDigest([a, b]), sourcesDigest([{ ...a, uid: 1 }, b]));
    assert.notEqual(sourcesDigest([a, b]), sourcesDigest([{ ...a, content: 'h3' }, b]));
  });
});

describe('build config changes', () => {
  const apply = (cfg: ImageConfig, line: string, flags: StageFlags = { cmdSet: false }) => applyConfig(cfg, one(line), flags)!;
  it('ENV replaces or appends, LABEL merges, EXPOSE normalises, VOLUME adds', () => {
    assert.deepEqual(setEnv(['A=1', 'B=2'], 'A', '3'), ['A=3', 'B=2']);
    let c = apply(base, 'ENV PATH=/usr/bin X=y');
    assert.deepEqual(c.config!.Env, ['PATH=/usr/bin', 'X=y']);
    c = apply(apply(c, 'LABEL a=1'), 'LABEL b=2');
    assert.deepEqual(c.config!.Labels, { a: '1', b: '2' });
    assert.deepEqual(exposedPorts(['80', '53/UDP', '8000-8002']), ['80/tcp', '53/udp', '8000/tcp', '8001/tcp', '8002/tcp']);
    assert.throws(() => exposedPorts(['x']), /invalid containerPort: x/);
    assert.deepEqual(Object.keys(apply(base, 'VOLUME /a /b').config!.Volumes!), ['/a', '/b']);
  });
  it('CMD/ENTRYPOINT: shell form through SHELL; ENTRYPOINT clears an inherited CMD, not one set in the stage', () => {
    assert.deepEqual(apply(base, 'CMD echo hi').config!.Cmd, ['/bin/sh', '-c', 'echo hi']);
    const shelled = apply(base, 'SHELL ["/bin/bash", "-ec"]');
    assert.deepEqual(apply(shelled, 'ENTRYPOINT run it').config!.Entrypoint, ['/bin/bash', '-ec', 'run it']);
    assert.equal(apply(base, 'ENTRYPOINT ["x"]').config!.Cmd, null);
    const flags = { cmdSet: false };
    const withCmd = apply(base, 'CMD ["y"]', flags);
    assert.deepEqual(apply(withCmd, 'ENTRYPOINT ["x"]', flags).config!.Cmd, ['y']);
  });
  it('WORKDIR resolves against the current one; HEALTHCHECK NONE; ONBUILD appends; MAINTAINER is the author', () => {
    assert.equal(workdirPath('/a', 'b/../c'), '/a/c');
    assert.equal(workdirPath(undefined, 'x'), '/x');
    assert.deepEqual(apply(base, 'HEALTHCHECK NONE').config!.Healthcheck, { Test: ['NONE'] });
    assert.deepEqual(apply(apply(base, 'ONBUILD RUN a'), 'ONBUILD COPY b c').config!.OnBuild, ['RUN a', 'COPY b c']);
    assert.equal(apply(base, 'MAINTAINER me').author, 'me');
    assert.equal(applyConfig(base, one('RUN x'), { cmdSet: false }), undefined);
  });
});

describe('COPY paths', () => {
  it('the destination against WORKDIR, a trailing slash meaning a directory', () => {
    assert.deepEqual(resolveDest('x', '/w'), { path: '/w/x', dir: false });
    assert.deepEqual(resolveDest('x/', '/w'), { path: '/w/x', dir: true });
    assert.deepEqual(resolveDest('.', '/w'), { path: '/w', dir: true });
    assert.deepEqual(resolveDest('/abs', '/w'), { path: '/abs', dir: false });
  });
  it('Go filepath.Match wildcards per component', () => {
    const tree: Record<string, string[]> = { '': ['a.txt', 'b.md', 'dir', 'c.txt'], dir: ['x1', 'y2'] };
    const list = (d: string) => tree[d];
    assert.deepEqual(expandSource('*.txt', list), ['a.txt', 'c.txt']);
    assert.deepEqual(expandSource('./dir/[x]?', list), ['dir/x1']);
    assert.deepEqual(expandSource('di?/*', list), ['dir/x1', 'dir/y2']);
    assert.deepEqual(expandSource('plain/../b.md', list), ['b.md']);
    assert.ok(componentPattern('[^a]*').test('b'));
    assert.ok(!componentPattern('[^a]*').test('a'));
    assert.equal(cleanSource('../../etc/passwd'), 'etc/passwd');
    assert.equal(cleanSource('.'), '');
  });
  it('a directory lands at the destination, a file inside a directory destination or as it', () => {
    const dir = { path: '/d', dir: true };
    const file = { path: '/d', dir: false };
    assert.equal(landing('src', true, file, false), '/d');
    assert.equal(landing('a/f.txt', false, dir, false), '/d/f.txt');
    assert.equal(landing('a/f.txt', false, file, true), '/d/f.txt');
    assert.equal(landing('a/f.txt', false, file, false), '/d');
  });
  it('items: parents first, the last source wins, missing parents made, existing ones kept', () => {
    const f = (dest: string, size = 1): CopyItem => ({ dest, type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: 0, size });
    assert.deepEqual(orderItems([f('/a/b'), f('/a-c'), f('/a/b', 2)]).map((i) => [i.dest, i.size]), [['/a/b', 2], ['/a-c', 1]]);
    assert.ok(cmpPath('/a-c', '/a/b') > 0, 'component-wise: a before a-c');
    assert.ok(cmpPath('/a', '/a/b') < 0);
    const existing = { isDirectory: () => true, mode: 0o40700, uid: 5, gid: 6, mtimeMs: 1000 } as unknown as fs.Stats;
    const parents = parentItems([f('/x/y/z')], (p) => (p === '/x' ? existing : undefined), 7);
    assert.deepEqual(parents.map((p) => [p.dest, p.mode, p.uid, p.mtime]), [['/x/y', 0o755, 0, 7], ['/x', 0o700, 5, 1]]);
  });
});

describe('COPY owners and modes', () => {
  const passwd = 'root:x:0:0::/root:/bin/sh\napp:x:1000:1001::/home/app:/bin/sh\n';
  const group = 'root:x:0:\nstaff:x:50:\n';
  it('numbers, names, a user\'s primary group', () => {
    assert.deepEqual(resolveChown('10', passwd, group), { uid: 10, gid: 10 });
    assert.deepEqual(resolveChown('10:20', passwd, group), { uid: 10, gid: 20 });
    assert.deepEqual(resolveChown('app', passwd, group), { uid: 1000, gid: 1001 });
    assert.deepEqual(resolveChown('app:staff', passwd, group), { uid: 1000, gid: 50 });
    assert.throws(() => resolveChown('nobody', passwd, group), /no such user: nobody/);
    assert.throws(() => resolveChown('app:nogroup', passwd, group), /no such group: nogroup/);
    assert.equal(parseChmod('755'), 0o755);
    assert.throws(() => parseChmod('u+x'), /invalid chmod parameter: u\+x/);
  });
});

describe('RUN command and environment', () => {
  const sh = ['/bin/sh', '-c'];
  it('exec form as is, shell form through SHELL, heredocs', () => {
    assert.deepEqual(runArgv({ form: 'exec', args: ['a', 'b'] }, [], sh), ['a', 'b']);
    assert.deepEqual(runArgv({ form: 'shell', command: 'echo hi' }, [], sh), ['/bin/sh', '-c', 'echo hi']);
    const doc = { name: 'EOF', content: 'echo a\n', expand: true, chomp: false, fd: 0 };
    assert.deepEqual(runArgv({ form: 'shell', command: '<<EOF' }, [doc], sh), ['/bin/sh', '-c', 'echo a\n']);
    assert.deepEqual(runArgv({ form: 'shell', command: 'cat <<EOF > /f' }, [{ ...doc, content: 'body\n' }], sh), ['/bin/sh', '-c', 'cat <<EOF > /f\nbody\nEOF']);
  });
  it('build args join the environment; ENV wins', () => {
    assert.deepEqual(runEnv(['A=env'], new Map([['A', 'arg'], ['B', 'b']])), ['A=env', 'B=b']);
  });
  it('the step text: continuations joined, heredoc bodies left out', () => {
    const src = 'FROM x\nRUN a \\\n  b\nRUN <<EOF\nbody\nEOF\n';
    const df = parseDockerfile(src);
    assert.equal(stepText(src, df.instructions[1]!), 'RUN a b');
    assert.equal(stepText(src, df.instructions[2]!), 'RUN <<EOF');
  });
});

describe('RUN layers without mount skeletons', () => {
  it('drops added directories that only hold mount points, keeps those with real content', () => {
    const changes = [
      { kind: 'A' as const, path: '/run' },
      { kind: 'A' as const, path: '/run/secrets' },
      { kind: 'A' as const, path: '/mnt' },
      { kind: 'A' as const, path: '/mnt/deep' },
      { kind: 'A' as const, path: '/mnt/real.txt' },
      { kind: 'C' as const, path: '/etc' },
    ];
    const kept = withoutMountSkeleton(changes, new Set(['/run/secrets/token', '/mnt/deep/x']));
    assert.deepEqual(kept.map((c) => c.path), ['/mnt', '/mnt/real.txt', '/etc']);
  });
});
