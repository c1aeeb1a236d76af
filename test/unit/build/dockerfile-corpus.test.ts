/**
 * The Dockerfile corpus (test/fixtures/dockerfiles/*.Dockerfile): each file's parse, checked against its golden
 * JSON beside it. `TSDOCK_UPDATE_GOLDEN=1` writes the goldens anew (then review the diff against docker's
 * behaviour before committing).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDockerfile } from '../../../src/build/dockerfile/parse.js';

// dist/test/unit/build/ → the repository's test/fixtures/dockerfiles/
const dir = fileURLToPath(new URL('../../../../test/fixtures/dockerfiles/', import.meta.url));
const files = fs.readdirSync(dir).filter((f) => f.endsWith('.Dockerfile')).sort();

describe('Dockerfile corpus (build/dockerfile/parse.ts)', () => {
  it('has at least 15 Dockerfiles', () => assert.ok(files.length >= 15, `${files.length} fixtures`));
  for (const file of files) {
    it(file, () => {
      const parsed = JSON.parse(JSON.stringify(parseDockerfile(fs.readFileSync(path.join(dir, file), 'utf8')))) as unknown;
      const golden = path.join(dir, file.replace(/\.Dockerfile$/, '.json'));
      if (process.env.TSDOCK_UPDATE_GOLDEN === '1') fs.writeFileSync(golden, `${JSON.stringify(parsed, null, 2)}\n`);
      assert.deepEqual(parsed, JSON.parse(fs.readFileSync(golden, 'utf8')));
    });
  }
});
