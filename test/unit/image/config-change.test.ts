import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseChange } from '../../../src/image/config-change.js';
import type { ContainerConfig } from '../../../src/image/manifest.js';
import { TsdockError, UsageError } from '../../../src/errors.js';

const apply = (cfg: ContainerConfig, ...changes: string[]): ContainerConfig => {
  const out = structuredClone(cfg);
  for (const c of changes) parseChange(c)(out);
  return out;
};

describe('commit -c (image/config-change.ts)', () => {
  it('applies Dockerfile instructions as docker commit does', () => {
    const cfg = apply(
      { Env: ['PATH=/bin', 'A=1'], WorkingDir: '/srv' },
      'ENV A=2 B="two words"',
      'CMD ["cat", "/x"]',
      'ENTRYPOINT echo hi',
      'WORKDIR sub',
      'LABEL a=b',
      'EXPOSE 8080 53/UDP',
      'VOLUME ["/data"]',
      'USER nobody',
      'STOPSIGNAL SIGINT',
    );
    assert.deepEqual(cfg.Env, ['PATH=/bin', 'A=2', 'B=two words']);
    assert.deepEqual(cfg.Cmd, ['cat', '/x']);
    assert.deepEqual(cfg.Entrypoint, ['/bin/sh', '-c', 'echo hi']);
    assert.equal(cfg.WorkingDir, '/srv/sub');
    assert.deepEqual(cfg.Labels, { a: 'b' });
    assert.deepEqual(cfg.ExposedPorts, { '8080/tcp': {}, '53/udp': {} });
    assert.deepEqual(cfg.Volumes, { '/data': {} });
    assert.equal(cfg.User, 'nobody');
    assert.equal(cfg.StopSignal, 'SIGINT');
  });
  it('refuses a bad instruction when parsed, before any work', () => {
    assert.throws(() => parseChange('RUN make'), (e: unknown) => e instanceof TsdockError && /RUN is not a valid change command/.test(e.message));
    assert.throws(() => parseChange('EXPOSE http'), (e: unknown) => e instanceof UsageError && /invalid containerPort: http\/tcp/.test(e.message));
    assert.throws(() => parseChange('ENV A="open'), /unterminated quote/);
  });
});
