import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
const script = path.join(repo, 'scripts', 'check-layers.mjs');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdock-layers-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function check(root?: string): { code: number | null; stderr: string; stdout: string } {
  const r = spawnSync(process.execPath, [script, ...(root ? ['--root', root] : [])], { encoding: 'utf8' });
  return { code: r.status, stderr: r.stderr, stdout: r.stdout };
}

/** A copy of the real docs/architecture.md and src/ tree (no package.json: no version check), one file added. */
function fixture(name: string, file: string, text: string): string {
  const root = path.join(tmp, name);
  fs.mkdirSync(path.join(root, 'docs'), { recursive: true });
  fs.copyFileSync(path.join(repo, 'docs', 'architecture.md'), path.join(root, 'docs', 'architecture.md'));
  fs.cpSync(path.join(repo, 'src'), path.join(root, 'src'), { recursive: true });
  fs.mkdirSync(path.dirname(path.join(root, 'src', file)), { recursive: true });
  fs.writeFileSync(path.join(root, 'src', file), text);
  return root;
}

describe('npm run lint:layers (scripts/check-layers.mjs)', () => {
  it('passes on the real tree', () => {
    const r = check();
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /layers ok/);
  });

  const refused: Array<[string, string, string, RegExp]> = [
    ['cli-container', 'cli/commands/bad.ts', "import { resolveContainer } from '../../container/lookup.js';\n", /src\/cli\/commands\/bad\.ts: imports \.\.\/\.\.\/container\/lookup\.js \(cli → container is not in cli's row/],
    ['cli-image-type', 'cli/bad.ts', "import type { Reference } from '../image/reference.js';\n", /src\/cli\/bad\.ts: imports \.\.\/image\/reference\.js \(cli → image /],
    ['api-sys', 'api/bad.ts', "import { openPty } from '../sys/pty.js';\n", /src\/api\/bad\.ts: imports \.\.\/sys\/pty\.js \(api → sys is not in api's row/],
    ['domain-api', 'container/bad.ts', "import { pull } from '../api/pull.js';\n", /src\/container\/bad\.ts: imports \.\.\/api\/pull\.js \(container → api /],
    ['storage-image', 'storage/bad.ts', "export { ImageStore } from '../image/store/images.js';\n", /src\/storage\/bad\.ts: imports \.\.\/image\/store\/images\.js \(storage → image /],
    ['spec-value', 'ocispec/bad.ts', "import { hostPlatform } from '../image/manifest.js';\n", /src\/ocispec\/bad\.ts: .*ocispec → image \(a value import\)/],
    ['spec-other-file', 'ocispec/bad.ts', "import type { ImageRecord } from '../image/store/types.js';\n", /src\/ocispec\/bad\.ts: imports \.\.\/image\/store\/types\.js \(ocispec → image/],
    ['cgroups-dynamic', 'cgroups/bad.ts', "export const f = () => import('../container/state.js');\n", /src\/cgroups\/bad\.ts: imports \.\.\/container\/state\.js \(cgroups → container/],
    ['sys-state', 'sys/bad.ts', "import { x } from '../state/lock.js';\n", /src\/sys\/bad\.ts: imports \.\.\/state\/lock\.js \(sys → state is not in sys's row of docs\/architecture\.md: nothing\)/],
    ['shared-up', 'context2.ts', '', /src\/context2\.ts: a file at the top of src\/ is shared by every layer/],
    ['shared-imports', 'errors.ts', "import { x } from './image/digest.js';\n", /src\/errors\.ts: imports \.\/image\/digest\.js \(the shared files import only each other/],
    ['no-row', 'gadget/bad.ts', '', /src\/gadget\/bad\.ts: src\/gadget\/ has no row/],
    ['koffi', 'storage/bad.ts', "import koffi from 'koffi';\n", /src\/storage\/bad\.ts: imports koffi \(koffi only in src\/sys\)/],
  ];
  for (const [name, file, text, message] of refused) {
    it(`fails on ${name}, naming the file and the forbidden edge`, () => {
      const r = check(fixture(name, file, text));
      assert.equal(r.code, 1, r.stdout);
      assert.match(r.stderr, message);
    });
  }

  it("allows what the rows say: type-only imports where only types are, a row's module, the shared files", () => {
    const r = check(fixture('allowed', 'ocispec/ok.ts', [
      "import type { ImageConfig } from '../image/manifest.js';",
      "import { type ContainerConfig } from '../image/manifest.js';",
      "import { TsdockError } from '../errors.js';",
      "import type { Context } from '../context.js';",
      "export type { LinuxResources } from './types.js';",
      '',
    ].join('\n')));
    assert.equal(r.code, 0, r.stderr);
  });

  it('reads the table: an edge added to a row is allowed', () => {
    const root = fixture('table-edit', 'api/pty.ts', "import { openPty } from '../sys/pty.js';\n");
    assert.equal(check(root).code, 1);
    const doc = path.join(root, 'docs', 'architecture.md');
    const text = fs.readFileSync(doc, 'utf8');
    const row = /^\| `src\/api\/` \|.*\| domain modules \|$/m;
    assert.match(text, row);
    fs.writeFileSync(doc, text.replace(row, (l) => l.replace(/\| domain modules \|$/, '| domain modules, sys (test) |')));
    const r = check(root);
    assert.equal(r.code, 0, r.stderr);
  });
});
