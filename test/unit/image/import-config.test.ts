import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseChange } from '../../../src/image/config-change.js';
import { importedConfig } from '../../../src/image/import-rootfs.js';

const diffId = `sha256:${'a'.repeat(64)}`;

test("import's config: the platform, the -c changes, one layer, one history entry commented", () => {
  const cfg = importedConfig(
    { platform: { os: 'linux', architecture: 'arm', variant: 'v7' }, changes: ['CMD ["sh"]', 'ENV A=1', 'WORKDIR /srv', 'EXPOSE 80'].map(parseChange), message: 'hi', source: 'x.tar' },
    diffId,
    '2026-01-01T00:00:00Z',
  );
  assert.deepEqual(cfg, {
    created: '2026-01-01T00:00:00Z',
    architecture: 'arm',
    os: 'linux',
    variant: 'v7',
    config: { Cmd: ['sh'], Env: ['A=1'], WorkingDir: '/srv', ExposedPorts: { '80/tcp': {} } },
    rootfs: { type: 'layers', diff_ids: [diffId] },
    history: [{ created: '2026-01-01T00:00:00Z', comment: 'hi' }],
  });
});

test('without -m the comment names the source, as docker', () => {
  const cfg = importedConfig({ platform: { os: 'linux', architecture: 'amd64' }, changes: [], source: 'http://h/r.tgz' }, diffId, 't');
  assert.deepEqual(cfg.history, [{ created: 't', comment: 'Imported from http://h/r.tgz' }]);
  assert.deepEqual(cfg.config, {});
  assert.equal('variant' in cfg, false);
});
