import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { getHarness } from './shared-harness.js';
import { asUserArgv, collect, endRootless, rootlessDirs, testUser, type RunResult } from './helpers.js';

const user = testUser();

describe('build, rootless', { skip: user.skip }, () => {
  let root = '';
  let runtime = '';
  let image = '';
  const asUser = (args: string[]): Promise<RunResult> => collect(asUserArgv(user.name, runtime, root, args));

  before(async () => {
    image = (await getHarness()).fixtures.busyboxV2s2.ref;
    ({ root, runtime } = rootlessDirs('build-rootless', user));
  });
  after(async () => {
    await endRootless(asUser, runtime);
  });

  test('a multi-stage Dockerfile with RUN, COPY --chown and COPY --from', async () => {
    const ctx = path.join(root, 'ctx');
    fs.mkdirSync(ctx);
    fs.writeFileSync(path.join(ctx, 'a.txt'), 'alpha\n');
    fs.writeFileSync(path.join(ctx, 'Dockerfile'), [
      `FROM ${image} AS build`,
      'COPY --chown=1000:1000 a.txt /work/a.txt',
      'RUN id -u > /work/uid && stat -c %u /work/a.txt >> /work/uid && mkdir /work/made',
      `FROM ${image}`,
      'COPY --from=build /work /out',
      'RUN ls -n /out | awk \'NR>1 {print $3, $9}\' > /owners',
      'CMD ["cat", "/out/uid", "/owners"]',
      '',
    ].join('\n'));
    for (const dir of [ctx, path.join(ctx, 'a.txt'), path.join(ctx, 'Dockerfile')]) fs.chownSync(dir, user.uid, user.gid);
    let r = await asUser(['build', '-t', 'rootless-built', ctx]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    r = await asUser(['run', '--rm', 'rootless-built']);
    assert.equal(r.code, 0, r.stderr);
    // COPY --from keeps the owners of the stage's files (docker's and buildah's rule without --chown)
    assert.equal(r.stdout, '0\n1000\n1000 a.txt\n0 made\n0 uid\n');
    r = await asUser(['ps', '-aq']);
    assert.equal(r.stdout, '', 'no build container left');
  });
});
