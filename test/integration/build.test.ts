import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isRoot } from './shared-harness.js';
import { spawn, spawnSync } from 'node:child_process';
import http from 'node:http';
import { bin, testStore, tsdock, tsdockRaw } from './helpers.js';

/** A build context under the test's tmp dir: `files` written (dirs made), removed at exit. */
const contexts: string[] = [];
process.once('exit', () => contexts.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

function context(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdock-build-ctx-'));
  contexts.push(dir);
  for (const [name, body] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), body);
  }
  return dir;
}

interface ImageConfigView {
  Env: string[];
  Cmd: string[] | null;
  Entrypoint: string[] | null;
  WorkingDir: string;
  User: string;
  Labels: Record<string, string> | null;
  ExposedPorts: Record<string, object> | null;
  Healthcheck?: { Test: string[]; Interval?: number; Retries?: number };
  StopSignal?: string;
  Volumes: Record<string, object> | null;
  OnBuild: string[] | null;
  Shell?: string[];
}

describe('build', { skip: !isRoot && 'needs root for the harness packages' }, () => {
  const store = testStore('build');
  const build = (args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string } = {}) => tsdock(['build', ...args], { root: store.root, ...opts });
  const config = async (ref: string): Promise<ImageConfigView> => JSON.parse(await store.ok(['image', 'inspect', '--format', '{{json .Config}}', ref])) as ImageConfigView;
  const layerCount = () => fs.readdirSync(path.join(store.root, 'layers', 'sha256')).length;
  /** nothing a build leaves behind: containers, mounts under the store, work dirs */
  const assertClean = async () => {
    assert.equal((await store.ok(['ps', '-aq'])).trim(), '', 'no build container left');
    assert.ok(!fs.readFileSync('/proc/self/mountinfo', 'utf8').includes(store.root), 'no mount left under the store');
    const tmp = path.join(store.root, 'tmp');
    assert.deepEqual(fs.existsSync(tmp) ? fs.readdirSync(tmp) : [], [], 'no work dir left');
  };

  test('a multi-stage Dockerfile: RUN, COPY, COPY --from, ARG/ENV substitution, and the config instructions', async () => {
    const dir = context({
      'src/a.txt': 'alpha\n',
      'src/sub/b.txt': 'beta\n',
      'secret.txt': 'not sent\n',
      '.dockerignore': 'secret.txt\n',
      Dockerfile: [
        `ARG BASE=${store.image}`,
        'FROM $BASE AS builder',
        'ARG GREETING=hello',
        'ENV APP=/app',
        'WORKDIR $APP',
        'COPY src/ ./src/',
        'RUN echo "$GREETING from $(pwd) as $(id -u)" > out.txt && cat out.txt && rm src/a.txt',
        'RUN test ! -e /app/secret.txt',
        '',
        `FROM ${store.image}`,
        'LABEL org.example.name="demo app" org.example.stage=final',
        'EXPOSE 8080 53/udp',
        'COPY --from=builder /app/out.txt /srv/',
        'COPY --from=builder /app/src /srv/src',
        'COPY --chown=app:app --chmod=640 src/a.txt /home/app/',
        'ENV MODE=prod',
        'USER app',
        'WORKDIR /srv',
        'VOLUME /data',
        'STOPSIGNAL SIGTERM',
        'HEALTHCHECK --interval=5s --retries=2 CMD cat /srv/out.txt',
        'ENTRYPOINT ["cat"]',
        'CMD ["out.txt"]',
        '',
      ].join('\n'),
    });
    const r = await build(['-t', 'demo:1', '--build-arg', 'GREETING=hi', dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^\[1\/2\] STEP 1\/7: FROM \$BASE AS builder$/m);
    assert.match(r.stdout, /^\[1\/2\] STEP 6\/7: RUN echo /m);
    assert.match(r.stdout, /^hi from \/app as 0$/m, 'the RUN output, with the build arg and WORKDIR');
    assert.match(r.stdout, /^Successfully tagged demo:1$/m);
    const id = r.stdout.trim().split('\n').at(-1)!;
    assert.match(id, /^[0-9a-f]{64}$/);
    assert.equal((await store.ok(['image', 'inspect', '--format', '{{.Id}}', 'demo:1'])).trim(), `sha256:${id}`);

    const c = await config('demo:1');
    assert.deepEqual(c.Entrypoint, ['cat']);
    assert.deepEqual(c.Cmd, ['out.txt']);
    assert.equal(c.WorkingDir, '/srv');
    assert.equal(c.User, 'app');
    assert.ok(c.Env.includes('MODE=prod'));
    assert.ok(!c.Env.some((e) => e.startsWith('APP=')), 'the first stage\'s ENV stays there');
    assert.deepEqual(c.Labels, { 'org.example.name': 'demo app', 'org.example.stage': 'final' });
    assert.deepEqual(Object.keys(c.ExposedPorts ?? {}).sort(), ['53/udp', '8080/tcp']);
    assert.deepEqual(Object.keys(c.Volumes ?? {}), ['/data']);
    assert.equal(c.StopSignal, 'SIGTERM');
    assert.deepEqual(c.Healthcheck, { Test: ['CMD-SHELL', 'cat /srv/out.txt'], Interval: 5_000_000_000, Retries: 2 });

    // the files, as a container sees them
    assert.equal(await store.ok(['run', '--rm', 'demo:1']), 'hi from /app as 0\n');
    const ls = await store.ok(['run', '--rm', '--entrypoint', 'sh', 'demo:1', '-c', 'id -u; ls /srv/src; cat /srv/src/sub/b.txt; stat -c "%a %U:%G" /home/app/a.txt; ls /app 2>&1 || true']);
    assert.equal(ls, '1000\nsub\nbeta\n640 app:app\nls: /app: No such file or directory\n');
    // the intermediate images are hidden, as docker's
    assert.ok(!(await store.ok(['images'])).includes('<none>'));
    await assertClean();
  });

  test('the cache: an unchanged rebuild reuses every step, an mtime is no change, a changed file redoes its COPY on', async () => {
    const dir = context({
      'a.txt': 'one\n',
      'b.txt': 'two\n',
      Dockerfile: [`FROM ${store.image}`, 'ENV X=1', 'COPY a.txt /a.txt', 'RUN cat /a.txt > /copy-a', 'COPY b.txt /b.txt', 'RUN cat /b.txt > /copy-b', 'CMD ["cat", "/copy-a", "/copy-b"]', ''].join('\n'),
    });
    const first = await build(['-t', 'cached:1', dir]);
    assert.equal(first.code, 0, first.stderr);
    assert.doesNotMatch(first.stdout, /Using cache/);
    const id = first.stdout.trim().split('\n').at(-1)!;
    const layers = layerCount();

    const again = await build(['-t', 'cached:2', dir]);
    assert.equal(again.code, 0, again.stderr);
    assert.equal((again.stdout.match(/^--> Using cache [0-9a-f]{64}$/gm) ?? []).length, 6, again.stdout);
    assert.equal(again.stdout.trim().split('\n').at(-1), id);
    assert.equal(layerCount(), layers, 'a fully cached rebuild makes no layer');

    const later = new Date(Date.now() + 60_000);
    fs.utimesSync(path.join(dir, 'a.txt'), later, later);
    const touched = await build(['-q', dir]);
    assert.equal(touched.code, 0, touched.stderr);
    assert.equal(touched.stdout, `sha256:${id}\n`, 'a new mtime changes nothing');

    fs.writeFileSync(path.join(dir, 'b.txt'), 'TWO\n');
    const changed = await build(['-t', 'cached:3', dir]);
    assert.equal(changed.code, 0, changed.stderr);
    const cachedSteps = changed.stdout.split('\n').filter((l) => l.startsWith('STEP') || l.startsWith('--> Using cache'));
    assert.deepEqual(cachedSteps.map((l) => l.replace(/ [0-9a-f]{64}$/, '').replace(/^STEP (\d+)\/7: (\S+).*/, '$1 $2')), [
      '1 FROM', '2 ENV', '--> Using cache', '3 COPY', '--> Using cache', '4 RUN', '--> Using cache', '5 COPY', '6 RUN', '7 CMD',
    ]);
    assert.notEqual(changed.stdout.trim().split('\n').at(-1), id);
    assert.equal(await store.ok(['run', '--rm', 'cached:3']), 'one\nTWO\n');

    // the cache survives rmi of every tag, and --no-cache bypasses it
    for (const t of ['cached:1', 'cached:2']) await store.ok(['rmi', t]);
    fs.writeFileSync(path.join(dir, 'b.txt'), 'two\n');
    const back = await build(['-q', dir]);
    assert.equal(back.stdout, `sha256:${id}\n`, back.stderr);
    const fresh = await build(['--no-cache', dir]);
    assert.equal(fresh.code, 0, fresh.stderr);
    assert.doesNotMatch(fresh.stdout, /Using cache/);
    await assertClean();
  });

  test('errors are one line naming the line; a failed RUN exits 1 and leaves nothing behind', async () => {
    const cases: Array<[string, string[], RegExp]> = [
      [`FROM ${store.image}\nRUN true\nCOPPY a b\n`, [], /^Error: dockerfile line 3: unknown instruction: COPPY\n$/],
      [`FROM ${store.image}\nCOPY missing.txt /x\n`, [], /^Error: dockerfile line 2: COPY failed: file not found in build context: missing\.txt\n$/],
      [`FROM ${store.image}\nRUN echo step one\nRUN echo failing; exit 3\nRUN echo never\n`, [], /^Error: dockerfile line 3: RUN: process "\/bin\/sh -c echo failing; exit 3" did not complete successfully: exit code: 3\n$/],
      [`FROM ${store.image} AS base\nRUN true\n`, ['--target', 'nope'], /^Error: dockerfile line 1: target stage "nope" could not be found\n$/],
      [`FROM ${store.image}\n`, ['--platform', 'linux/s390x'], /^Error: build: platform linux\/s390x is not supported: tsdock builds for the host platform linux\/\w+ only\n$/],
    ];
    for (const [dockerfile, flags, expected] of cases) {
      const dir = context({ Dockerfile: dockerfile });
      const r = await build([...flags, dir]);
      assert.equal(r.code, 1, `${dockerfile}: ${r.stderr}`);
      assert.match(r.stderr, expected);
    }
    const failed = await build([context({ Dockerfile: `FROM ${store.image}\nRUN echo failing; exit 3\n` })]);
    assert.match(failed.stdout, /^failing$/m, 'the failing command\'s output is shown');
    assert.doesNotMatch(failed.stdout, /never/);
    await assertClean();
  });

  test('flags: -f - and -f FILE, --build-arg from the environment, --label, --iidfile, -q, and the build aliases', async () => {
    const dir = context({ 'other.Dockerfile': `FROM ${store.image}\nARG FROM_ENV\nARG PLAIN=default\nRUN echo "$FROM_ENV/$PLAIN" > /args\n` });
    const iid = path.join(dir, 'iid');
    let r = await build(['-f', path.join(dir, 'other.Dockerfile'), '--build-arg', 'FROM_ENV', '--build-arg', 'PLAIN=given', '--label', 'a=b', '--label', 'empty', '--iidfile', iid, '-q', '-t', 'flags:1', '-t', 'flags:2', dir], { env: { FROM_ENV: 'env-value' } });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^sha256:[0-9a-f]{64}\n$/, 'only the id with -q');
    assert.equal(fs.readFileSync(iid, 'utf8'), r.stdout.trim());
    assert.equal(await store.ok(['run', '--rm', 'flags:2', 'cat', '/args']), 'env-value/given\n');
    assert.deepEqual((await config('flags:1')).Labels, { a: 'b', empty: '' });

    r = await build(['-f', '-', '-q', dir], { input: `FROM ${store.image}\nCMD ["echo", "from stdin"]\n` });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await store.ok(['run', '--rm', r.stdout.trim()]), 'from stdin\n');
    for (const verb of [['image', 'build'], ['buildx', 'build']]) {
      const a = await tsdock([...verb, '-q', '-f', '-', dir], { root: store.root, input: `FROM ${store.image}\nCMD ["echo", "from stdin"]\n` });
      assert.equal(a.code, 0, a.stderr);
      assert.equal(a.stdout, r.stdout, `${verb.join(' ')} builds the same image (cached)`);
    }
    r = await build(['--build-arg', 'UNUSED=1', '-q', '-f', '-', dir], { input: `FROM ${store.image}\n` });
    assert.equal(r.stderr, 'WARN: one or more build-args [UNUSED] were not consumed\n');
  });

  test('COPY and ADD: wildcards, heredocs, tar archives, SHELL, ONBUILD and RUN heredocs', async () => {
    const tarDir = context({ 'pkg/inner/file.txt': 'packed\n' });
    const dir = context({ 'one.txt': '1\n', 'two.txt': '2\n', 'skip.md': 'no\n' });
    const tarred = await new Promise<number>((resolve) => {
      import('node:child_process').then(({ spawn }) => spawn('tar', ['-czf', path.join(dir, 'pkg.tar.gz'), '-C', tarDir, 'pkg']).on('close', (c) => resolve(c ?? 1)));
    });
    assert.equal(tarred, 0);
    fs.writeFileSync(path.join(dir, 'Dockerfile'), [
      `FROM ${store.image} AS base`,
      'ONBUILD RUN echo triggered > /onbuild',
      'COPY *.txt /nums/',
      'ADD pkg.tar.gz /opt/',
      'COPY <<EOF /etc/greeting',
      'hello ${HOSTNAME:-heredoc}',
      'EOF',
      'SHELL ["/bin/sh", "-ec"]',
      'RUN <<EOF',
      'echo script > /script-out',
      'EOF',
      '',
      'FROM base',
      'RUN cat /onbuild',
      '',
    ].join('\n'));
    const r = await build(['-t', 'copies:1', dir]);
    assert.equal((await build(['-q', '--target', 'base', '-t', 'base-only', dir])).code, 0);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.match(r.stdout, /^triggered$/m);
    const out = await store.ok(['run', '--rm', 'copies:1', 'sh', '-c', 'ls /nums; cat /opt/pkg/inner/file.txt /etc/greeting /script-out /onbuild']);
    assert.equal(out, 'one.txt\ntwo.txt\npacked\nhello heredoc\nscript\ntriggered\n');
    const c = await config('copies:1');
    assert.deepEqual(c.Shell, ['/bin/sh', '-ec']);
    assert.equal(c.OnBuild, null, 'the triggers ran and are not inherited further');
    assert.deepEqual(c.Cmd, ['sh']);
    assert.deepEqual((await config('base-only')).OnBuild, ['RUN echo triggered > /onbuild']);
  });

  test('build - reads a context tar or a lone Dockerfile from stdin; ADD fetches a URL', async () => {
    const server = http.createServer((req, res) => {
      if (req.url === '/files/served.txt') res.end('served\n');
      else res.writeHead(404).end();
    });
    await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
    const port = (server.address() as { port: number }).port;
    try {
      const dir = context({ 'in-tar.txt': 'from the tar\n', Dockerfile: `FROM ${store.image}\nCOPY in-tar.txt /\nADD http://127.0.0.1:${port}/files/served.txt /web/\nCMD ["cat", "/in-tar.txt", "/web/served.txt"]\n` });
      const tar = spawnSync('tar', ['-cz', '-C', dir, '.']);
      assert.equal(tar.status, 0);
      let r = await tsdockRaw(['build', '-q', '-t', 'from-stdin:1', '-'], store.root, tar.stdout);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(await store.ok(['run', '--rm', 'from-stdin:1']), 'from the tar\nserved\n');
      assert.equal(await store.ok(['run', '--rm', 'from-stdin:1', 'stat', '-c', '%a', '/web/served.txt']), '600\n');
      r = await tsdockRaw(['build', '-q', '-'], store.root, Buffer.from(`FROM ${store.image}\nRUN echo no context > /note\n`));
      assert.equal(r.code, 0, r.stderr);
      const missing = await build(['-f', '-', dir], { input: `FROM ${store.image}\nADD http://127.0.0.1:${port}/nope /x\n` });
      assert.equal(missing.stderr, `Error: dockerfile line 2: ADD failed: http://127.0.0.1:${port}/nope: invalid response status 404\n`);
      // --checksum: the fetched content verified; a mismatch, a local source or a malformed digest: one line each
      const url = `http://127.0.0.1:${port}/files/served.txt`;
      const good = `sha256:${crypto.createHash('sha256').update('served\n').digest('hex')}`;
      const bad = `sha256:${'0'.repeat(64)}`;
      r = await tsdockRaw(['build', '-q', '-f', '-', dir], store.root, Buffer.from(`FROM ${store.image}\nADD --checksum=${good} ${url} /web/\n`));
      assert.equal(r.code, 0, r.stderr);
      const mismatch = await build(['-q', '-f', '-', dir], { input: `FROM ${store.image}\nADD --checksum=${bad} ${url} /web/\n` });
      assert.equal(mismatch.code, 1);
      assert.equal(mismatch.stderr, `Error: dockerfile line 2: ADD failed: ${url}: digest mismatch: expected ${bad}, got ${good}\n`);
      const local = await build(['-q', '-f', '-', dir], { input: `FROM ${store.image}\nADD --checksum=${good} in-tar.txt /x\n` });
      assert.equal(local.stderr, "Error: dockerfile line 2: ADD failed: checksum can't be specified for multiple sources or non-HTTP(S) sources\n");
      const malformed = await build(['-q', '-f', '-', dir], { input: `FROM ${store.image}\nADD --checksum=md5:abc ${url} /x\n` });
      assert.match(malformed.stderr, /^Error: dockerfile line 2: ADD failed: invalid checksum digest format "md5:abc": .*\n$/);
    } finally {
      server.close();
    }
    await assertClean();
  });

  test('RUN --mount: cache kept across builds, bind (its content keys the step), tmpfs, secret', async () => {
    const dir = context({
      'data/d.txt': 'bound\n',
      Dockerfile: [
        `FROM ${store.image}`,
        'RUN --mount=type=cache,target=/cache echo x >> /cache/log && wc -l < /cache/log > /count',
        'RUN --mount=type=bind,source=data,target=/mnt cat /mnt/d.txt > /from-bind',
        'RUN --mount=type=tmpfs,target=/scratch echo t > /scratch/t && grep -q tmpfs /proc/mounts',
        'RUN --mount=type=secret,id=token,required test "$(cat /run/secrets/token)" = s3cret',
        'CMD ["cat", "/count", "/from-bind"]',
        '',
      ].join('\n'),
    });
    const secret = path.join(dir, 'token.txt');
    fs.writeFileSync(secret, 's3cret');
    let r = await build(['-q', '-t', 'mounts:1', '--secret', `id=token,src=${secret}`, dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await store.ok(['run', '--rm', 'mounts:1']), '1\nbound\n');
    const left = await store.ok(['run', '--rm', 'mounts:1', 'sh', '-c', 'for p in /scratch /run/secrets /mnt /cache; do test -e $p && echo $p; done; true']);
    assert.equal(left, '', 'no mount point in the image');
    fs.writeFileSync(path.join(dir, 'data/d.txt'), 'changed\n');
    r = await build(['-t', 'mounts:2', '--secret', `id=token,src=${secret}`, dir]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.split('\n').filter((l) => /^STEP|Using cache/.test(l)).map((l) => l.slice(0, 14)), ['STEP 1/6: FROM', 'STEP 2/6: RUN ', '--> Using cach', 'STEP 3/6: RUN ', 'STEP 4/6: RUN ', 'STEP 5/6: RUN ', 'STEP 6/6: CMD ']);
    r = await build(['--no-cache', '-q', '-t', 'mounts:3', '--secret', `id=token,src=${secret}`, dir]);
    assert.equal(await store.ok(['run', '--rm', 'mounts:3']), '2\nchanged\n', 'the cache mount kept its content');
    r = await build(['-q', '--no-cache', dir]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'Error: dockerfile line 5: RUN: secret token: not provided (give it with --secret id=token,src=FILE)\n');
    await assertClean();
  });

  const hasAgent = spawnSync('ssh-agent', ['-h']).error === undefined;
  test('RUN --mount=type=ssh: --ssh forwards an agent\'s socket (SSH_AUTH_SOCK set); none forwarded: a warning, or an error when required', { skip: !hasAgent && 'needs ssh-agent (openssh-client)' }, async () => {
    const dir = context({ Dockerfile: `FROM ${store.image}\nRUN --mount=type=ssh test -S "$SSH_AUTH_SOCK" && echo "agent at $SSH_AUTH_SOCK"\nRUN --mount=type=ssh,id=deploy,target=/agent,required test -S /agent\n` });
    const sock = path.join(dir, 'agent.sock');
    const agent = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
    try {
      for (let i = 0; i < 100 && !fs.existsSync(sock); i++) await new Promise((r) => setTimeout(r, 20));
      const r = await build(['--no-cache', '--ssh', 'default', '--ssh', `deploy=${sock}`, dir], { env: { SSH_AUTH_SOCK: sock } });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /agent at \/run\/buildkit\/ssh_agent\.0\n/);
      const unset = await build(['--ssh', 'default', dir], { env: { SSH_AUTH_SOCK: '' } });
      assert.equal(unset.stderr, 'Error: --ssh default: SSH_AUTH_SOCK is not set: no agent to forward (start ssh-agent, or give default=SOCKET)\n');
      const none = await build(['--no-cache', '-f', '-', dir], { input: `FROM ${store.image}\nRUN --mount=type=ssh,id=deploy,required true\n` });
      assert.equal(none.code, 1);
      assert.match(none.stderr, /^Error: dockerfile line 2: RUN: ssh deploy: no SSH agent forwarded: give it with --ssh deploy=SOCKET .*\n$/);
      const optional = await build(['--no-cache', '-q', '-f', '-', dir], { input: `FROM ${store.image}\nRUN --mount=type=ssh true\n` });
      assert.equal(optional.code, 0, optional.stderr);
      assert.match(optional.stderr, /WARN: RUN --mount=type=ssh: no SSH agent forwarded for id "default", the mount is skipped/);
    } finally {
      agent.kill();
    }
    await assertClean();
  });

  test('SOURCE_DATE_EPOCH: two builds of a context with other mtimes give the same image', async () => {
    const dir = context({ 'f.txt': 'same\n', Dockerfile: `FROM ${store.image}\nCOPY f.txt /f.txt\nENV A=1\n` });
    const ids: string[] = [];
    for (const when of [Date.now() - 3_600_000, Date.now()]) {
      fs.utimesSync(path.join(dir, 'f.txt'), new Date(when), new Date(when));
      const r = await build(['--no-cache', '-q', dir], { env: { SOURCE_DATE_EPOCH: '1700000000' } });
      assert.equal(r.code, 0, r.stderr);
      ids.push(r.stdout.trim());
    }
    assert.equal(ids[0], ids[1]);
    const created = (await store.ok(['image', 'inspect', '--format', '{{.Created}}', ids[0]!])).trim();
    assert.match(created, /^2023-11-14T22:13:20/);

    // --rewrite-timestamp: what RUN writes is clamped too
    const run = context({ Dockerfile: `FROM ${store.image}\nRUN mkdir /made && echo x > /made/file\n` });
    const again: string[] = [];
    for (let i = 0; i < 2; i++) {
      const r = await build(['--no-cache', '-q', '--source-date-epoch', '1700000000', '--rewrite-timestamp', run]);
      assert.equal(r.code, 0, r.stderr);
      again.push(r.stdout.trim());
      await new Promise((res) => setTimeout(res, 1100));
    }
    assert.equal(again[0], again[1]);
    assert.equal(await store.ok(['run', '--rm', again[0]!, 'stat', '-c', '%Y', '/made/file']), '1700000000\n');
    const bad = await build(['--rewrite-timestamp', run]);
    assert.equal(bad.stderr, 'Error: build: --rewrite-timestamp needs a source date epoch (--source-date-epoch or SOURCE_DATE_EPOCH)\n');
  });

  test('an interrupted build removes its container; one killed with -9 is swept by the next build', async () => {
    const dir = context({ Dockerfile: `FROM ${store.image}\nRUN echo started; sleep 30\n` });
    for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
      const child = spawn(process.execPath, [bin, '--root', store.root, 'build', '--no-cache', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (err += d));
      const closed = new Promise<number>((res) => child.on('close', (code, sig) => res(code ?? (sig ? 128 + os.constants.signals[sig] : 1))));
      while (!out.includes('started')) await new Promise((res) => setTimeout(res, 50));
      const sent = Date.now();
      child.kill(signal);
      const code = await closed;
      if (signal === 'SIGTERM') {
        assert.equal(code, 130, err);
        // the step's container is killed with the build, not left to finish (its shell, as PID 1, ignores SIGTERM)
        assert.ok(Date.now() - sent < 10_000, `stopped after ${Date.now() - sent} ms`);
        assert.equal(err, 'Error: build: interrupted\n');
        await assertClean();
      } else {
        assert.equal(code, 137);
        // the next build finds the dead build's container and removes it
        const r = await build(['-q', '-f', '-', dir], { input: `FROM ${store.image}\n` });
        assert.equal(r.code, 0, r.stderr);
        await assertClean();
      }
    }
  });
});
