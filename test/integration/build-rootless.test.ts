import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { getHarness, isRoot } from './shared-harness.js';
import { asUserArgv, collect, endRootless, tempRoot, type RunResult } from './helpers.js';

const USER = 'tsdock-test';
const uidOf = (flag: '-u' | '-g') => Number(execFileSync('id', [flag, USER], { encoding: 'utf8' }));
const hasUser = isRoot && (() => {
  try {
    uidOf('-u');
    return true;
  } catch {
    return false;
  }
})();
const skip = !isRoot ? 'needs root to switch to the unprivileged test user' : !hasUser ? `no ${USER} user (scripts/install-deps.sh creates it)` : false;

describe('build, rootless', { skip }, () => {
  let root = '';
  let runtime = '';
  let image = '';
  const asUser = (args: string[]): Promise<RunResult> => collect(asUserArgv(USER, runtime, root, args));

  before(async () => {
    image = (await getHarness()).fixtures.busyboxV2s2.ref;
    root = tempRoot('build-rootless').root;
    runtime = tempRoot('build-rootless-xdg').root;
    fs.chownSync(runtime, uidOf('-u'), 0);
    fs.chownSync(root, uidOf('-u'), uidOf('-g'));
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
    for (const dir of [ctx, path.join(ctx, 'a.txt'), path.join(ctx, 'Dockerfile')]) fs.chownSync(dir, uidOf('-u'), uidOf('-g'));
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
