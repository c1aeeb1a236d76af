import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { isRoot } from './shared-harness.js';
import { freePort, testStore, tsdock } from './helpers.js';

const gitOk = spawnSync('git', ['--version']).status === 0;

function git(cwd: string, ...args: string[]): string {
  const r = spawnSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.invalid', '-c', 'init.defaultBranch=main', ...args], { cwd, encoding: 'utf8', env: { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' } });
  assert.equal(r.status, 0, `git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

/** a static file server on loopback for `dir` (git's dumb http protocol, a context tar, a Dockerfile) */
async function serve(dir: string): Promise<{ url: string; close: () => Promise<void> }> {
  const server = http.createServer((req, res) => {
    const file = path.join(dir, path.posix.normalize(decodeURIComponent((req.url ?? '/').split('?')[0]!)));
    if (!file.startsWith(dir) || !fs.statSync(file, { throwIfNoEntry: false })?.isFile()) return res.writeHead(404).end();
    res.end(fs.readFileSync(file));
  });
  await new Promise<void>((res) => server.listen(0, '127.0.0.1', res));
  return { url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`, close: () => new Promise<void>((res) => server.close(() => res())) };
}

describe('build from a remote context', { skip: (!isRoot && 'needs root for the harness packages') || (!gitOk && 'git is not installed') }, () => {
  const store = testStore('build-remote');
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdock-build-remote-'));
  let daemon: ChildProcess | undefined;
  let gitUrl = '';
  let first = '';
  let web: Awaited<ReturnType<typeof serve>> | undefined;

  before(async () => {
    // a repository: v1 says "one", main says "two"; sub/ has a Dockerfile of its own
    const src = path.join(work, 'src');
    fs.mkdirSync(path.join(src, 'sub'), { recursive: true });
    git(src, 'init', '-q', '.');
    fs.writeFileSync(path.join(src, 'Dockerfile'), `FROM ${store.image}\nCOPY hello.txt /hello.txt\nCMD ["cat", "/hello.txt"]\n`);
    fs.writeFileSync(path.join(src, 'sub', 'Dockerfile'), `FROM ${store.image}\nCOPY here.txt /here.txt\nCMD ["cat", "/here.txt"]\n`);
    fs.writeFileSync(path.join(src, 'sub', 'here.txt'), 'from sub\n');
    fs.writeFileSync(path.join(src, 'hello.txt'), 'one\n');
    git(src, 'add', '-A');
    git(src, 'commit', '-q', '-m', 'one');
    git(src, 'tag', 'v1');
    first = git(src, 'rev-parse', 'HEAD');
    fs.writeFileSync(path.join(src, 'hello.txt'), 'two\n');
    git(src, 'commit', '-q', '-am', 'two');
    const served = path.join(work, 'served');
    fs.mkdirSync(served);
    git(work, 'clone', '-q', '--bare', src, path.join(served, 'repo.git'));
    git(path.join(served, 'repo.git'), 'update-server-info');
    // git's own protocol (shallow fetches) on loopback
    const port = await freePort();
    daemon = spawn('git', ['daemon', '--reuseaddr', '--export-all', `--base-path=${served}`, '--listen=127.0.0.1', `--port=${port}`, served], { stdio: 'ignore' });
    for (let i = 0; i < 100; i++) {
      const up = await new Promise<boolean>((res) => net.connect(port, '127.0.0.1').once('connect', function (this: net.Socket) { this.destroy(); res(true); }).once('error', () => res(false)));
      if (up) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    gitUrl = `git://127.0.0.1:${port}/repo.git`;
    // a context tar and a lone Dockerfile for the URL forms
    const ctx = path.join(work, 'ctx');
    fs.mkdirSync(ctx);
    fs.writeFileSync(path.join(ctx, 'in-tar.txt'), 'from the tar\n');
    fs.writeFileSync(path.join(ctx, 'Dockerfile'), `FROM ${store.image}\nCOPY in-tar.txt /\nCMD ["cat", "/in-tar.txt"]\n`);
    assert.equal(spawnSync('tar', ['-czf', path.join(served, 'context.tar.gz'), '-C', ctx, '.']).status, 0);
    fs.writeFileSync(path.join(served, 'Dockerfile.plain'), `FROM ${store.image}\nLABEL from=url\nCMD ["echo", "lone dockerfile"]\n`);
    web = await serve(served);
  });
  after(async () => {
    daemon?.kill();
    await web?.close();
    fs.rmSync(work, { recursive: true, force: true });
  });

  const buildAndRun = async (context: string, tag: string): Promise<string> => {
    await store.ok(['build', '-q', '-t', tag, context]);
    return store.ok(['run', '--rm', tag]);
  };
  const noWorkDirLeft = () => {
    const tmp = path.join(store.root, 'tmp');
    assert.deepEqual(fs.existsSync(tmp) ? fs.readdirSync(tmp) : [], [], 'no context work dir left');
  };

  test('git://: the default branch, a tag, a commit, and a subdirectory of a tag', async () => {
    assert.equal(await buildAndRun(gitUrl, 'remote:main'), 'two\n');
    assert.equal(await buildAndRun(`${gitUrl}#v1`, 'remote:v1'), 'one\n');
    assert.equal(await buildAndRun(`${gitUrl}#${first}`, 'remote:commit'), 'one\n');
    assert.equal(await buildAndRun(`${gitUrl}#v1:sub`, 'remote:sub'), 'from sub\n');
    // .git is not part of the context (BuildKit's default); -f - with a remote context
    const r = await tsdock(['build', '-q', '-t', 'remote:ls', '-f', '-', gitUrl], { root: store.root, input: `FROM ${store.image}\nCOPY . /ctx/\nCMD ["ls", "-a", "/ctx"]\n` });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual((await store.ok(['run', '--rm', 'remote:ls'])).trim().split('\n').sort(), ['.', '..', 'Dockerfile', 'hello.txt', 'sub']);
    noWorkDirLeft();
  });

  test('an http(s) URL ending in .git is a repository too (git\'s dumb protocol: the whole history is fetched)', async () => {
    assert.equal(await buildAndRun(`${web!.url}/repo.git#v1`, 'dumb:v1'), 'one\n');
    noWorkDirLeft();
  });

  test('a URL to a tar archive is the context; a URL to anything else is the Dockerfile', async () => {
    assert.equal(await buildAndRun(`${web!.url}/context.tar.gz`, 'url:tar'), 'from the tar\n');
    assert.equal(await buildAndRun(`${web!.url}/Dockerfile.plain`, 'url:plain'), 'lone dockerfile\n');
    assert.equal((await store.ok(['image', 'inspect', '--format', '{{index .Config.Labels "from"}}', 'url:plain'])).trim(), 'url');
    noWorkDirLeft();
  });

  test('a missing ref, a subdirectory outside the repository and a missing URL: one-line errors, nothing left', async () => {
    for (const [context, want] of [
      [`${gitUrl}#no-such-ref`, /fetching no-such-ref from git:\/\/.*repo\.git/],
      [`${gitUrl}#v1:../..`, /outside the repository/],
      [`${gitUrl}#v1:nope`, /subdirectory nope not found/],
      [`${web!.url}/missing.tar`, /HTTP 404/],
    ] as const) {
      const r = await tsdock(['build', '-q', context], { root: store.root });
      assert.notEqual(r.code, 0, context);
      assert.match(r.stderr, want);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, /^Error: /);
    }
    noWorkDirLeft();
  });
});
