import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ContextMatcher, loadIgnoreFile, readIgnorePatterns, walkContext } from '../../../src/build/context/ignore.js';
import { UsageError } from '../../../src/errors.js';

function context(files: Record<string, string>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdock-ctx-'));
  for (const [rel, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), content);
  }
  return dir;
}

describe('.dockerignore (build/context/ignore.ts)', () => {
  it('reads patterns as docker does: comments, blanks, cleaning, leading slash', () => {
    assert.deepEqual(readIgnorePatterns('\uFEFF# comment\n  # not a comment\n\n  *.log  \r\n/build/\n! ./keep/../keep.log\n./a//b/\n/\n'), ['# not a comment', '*.log', 'build', '!keep.log', 'a/b', '/']);
  });
  it('matches with exceptions, **, parents and the last pattern winning', () => {
    const m = new ContextMatcher(readIgnorePatterns('*.md\n!README.md\nnode_modules\n**/*.tmp\ndocs/**\n!docs/keep/**\nsecret?.txt\n'));
    const excluded = (p: string): boolean => m.excluded(p);
    assert.deepEqual(
      ['a.md', 'README.md', 'sub/a.md', 'node_modules/x/y.js', 'a/b/c.tmp', 'x.tmp', 'docs/a', 'docs/keep/b', 'secret1.txt', 'secret12.txt', 'A.MD'].map(excluded),
      [true, false, false, true, true, true, true, false, true, false, false],
    );
  });
  it('takes regular-expression characters literally, as docker does', () => {
    const m = new ContextMatcher(['a+b', '(x)', 'c.d']);
    assert.deepEqual(['a+b', 'aab', '(x)', 'x', 'c.d', 'cxd'].map((p) => m.excluded(p)), [true, false, true, false, true, false]);
  });
  it('still sends the Dockerfile and the .dockerignore', () => {
    const m = new ContextMatcher(['*', '!src'], 'build/Dockerfile.prod');
    assert.deepEqual(['.dockerignore', 'build/Dockerfile.prod', 'other', 'src/a'].map((p) => m.excluded(p)), [false, false, true, false]);
  });
  it('refuses a lone "!"', () => {
    assert.throws(() => new ContextMatcher(['!']), (e: unknown) => e instanceof UsageError && /illegal exclusion pattern/.test(e.message));
  });
  it('prefers <Dockerfile>.dockerignore beside the Dockerfile over the context\'s', async () => {
    const dir = context({ '.dockerignore': 'ctx\n', 'docker/app.Dockerfile': 'FROM a\n', 'docker/app.Dockerfile.dockerignore': 'specific\n' });
    try {
      assert.deepEqual(await loadIgnoreFile(dir, 'docker/app.Dockerfile'), { file: path.join(dir, 'docker/app.Dockerfile.dockerignore'), patterns: ['specific'] });
      assert.deepEqual((await loadIgnoreFile(dir, 'Dockerfile')).patterns, ['ctx']);
      fs.rmSync(path.join(dir, '.dockerignore'));
      assert.deepEqual(await loadIgnoreFile(dir), { patterns: [] });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
  it('walks the context: sorted, excluded directories skipped unless an exception names a path inside', async () => {
    const dir = context({
      Dockerfile: 'FROM a\n',
      '.dockerignore': '',
      'src/main.go': '',
      'src/main_test.go': '',
      'node_modules/x/index.js': '',
      'vendor/keep/a.txt': '',
      'vendor/drop/b.txt': '',
      'logs/deep/keep.txt': '',
      '.git/HEAD': '',
    });
    try {
      const m = new ContextMatcher(['node_modules', '.git', '**/*_test.go', 'vendor', '!vendor/keep', 'logs', '!**/keep.txt', 'Dockerfile', '.dockerignore'], 'Dockerfile');
      assert.deepEqual(await walkContext(dir, m), ['.dockerignore', 'Dockerfile', 'src', 'src/main.go', 'vendor/keep', 'vendor/keep/a.txt']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
