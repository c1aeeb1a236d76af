import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { tsdock, tempRoot, repoDir } from './helpers.js';

test('--version prints the version and exits 0', async () => {
  const r = await tsdock(['--version']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^\d+\.\d+\.\d+/);
});

test('an unknown flag is a one-line error with exit 125', async () => {
  const r = await tsdock(['images', '--bogus']);
  assert.equal(r.code, 125);
  assert.equal(r.stderr.trim().split('\n').length, 1);
  assert.match(r.stderr, /^Error: unknown option '--bogus'/);
});

test('an unknown command is a one-line error with exit 125', async () => {
  const r = await tsdock(['frobnicate']);
  assert.equal(r.code, 125);
  assert.match(r.stderr, /^Error: unknown command "frobnicate"/);
});

test('a bad reference is a clear error, no stack trace', async () => {
  const { root, cleanup } = tempRoot('badref');
  try {
    const r = await tsdock(['pull', 'Not/Valid:ref:x'], { root });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /^Error: invalid reference format/);
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  } finally {
    cleanup();
  }
});

test('images on an empty store prints only the header', async () => {
  const { root, cleanup } = tempRoot('empty');
  try {
    const r = await tsdock(['images'], { root });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE\n$/);
  } finally {
    cleanup();
  }
});

test('info reports store paths, driver, cgroup version and the default network', async () => {
  const { root, cleanup } = tempRoot('info');
  try {
    const r = await tsdock(['info', '--format', '{{.RootDir}} {{.Driver}} {{.CgroupVersion}} {{.Rootless}} {{.DefaultNetwork}}'], { root });
    assert.equal(r.code, 0, r.stderr);
    const network = process.getuid?.() === 0 ? 'false bridge' : 'true (pasta|none)';
    assert.match(r.stdout, new RegExp(`^${root} overlay [12] ${network}\\n$`));
  } finally {
    cleanup();
  }
});

test('man pages and shell completion are current and cover every command', () => {
  execFileSync(process.execPath, ['scripts/gen-docs.mjs', '--check'], { cwd: repoDir, stdio: 'pipe' });
});

test('a missing container: inspect, rm, start, logs, exec, stop exit 1 with one line, as docker', async () => {
  const { root, cleanup } = tempRoot('nosuch');
  try {
    for (const args of [['container', 'inspect', 'nosuch'], ['rm', 'nosuch'], ['start', 'nosuch'], ['logs', 'nosuch'], ['exec', 'nosuch', 'true'], ['attach', 'nosuch'], ['stop', 'nosuch'], ['kill', 'nosuch']]) {
      const r = await tsdock(args, { root });
      assert.deepEqual([r.code, r.stderr], [1, 'Error: No such container: nosuch\n'], args.join(' '));
    }
    // docker's inspect without --type looks for any object: `[]` on stdout and "No such object"
    const r = await tsdock(['inspect', 'nosuch'], { root });
    assert.deepEqual([r.code, r.stdout, r.stderr], [1, '[]\n', 'Error: No such object: nosuch\n']);
  } finally {
    cleanup();
  }
});
