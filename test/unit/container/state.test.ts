import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { NotFoundError } from '../../../src/errors.js';
import { listContainerIds, loadRecordOrOrphan, loadState, saveState, tryContainerLock, withContainerLock } from '../../../src/container/state.js';
import { fakeContainer, tempStore } from './fixtures.js';

test('listContainerIds: every container directory, orphans too; nothing else', () => {
  const root = tempStore('state');
  assert.deepEqual(listContainerIds(root), []);
  const a = fakeContainer(root);
  const orphan = fakeContainer(root, { orphan: true });
  fs.writeFileSync(path.join(root, 'containers', '.container.json.tmp-1-2'), '');
  fs.mkdirSync(path.join(root, 'containers', 'not-an-id'));
  assert.deepEqual(listContainerIds(root).sort(), [a, orphan].sort());
});

test('loadRecordOrOrphan: an orphan is synthesized from its config.json', () => {
  const root = tempStore('state');
  const id = fakeContainer(root, { orphan: true, name: 'half' });
  fs.writeFileSync(path.join(root, 'containers', id, 'config.json'), JSON.stringify({ process: { args: ['sleep', '5'] }, annotations: { 'io.tsdock.name': 'half', 'io.tsdock.image': 'busybox:latest' } }));
  const loaded = loadRecordOrOrphan(root, id)!;
  assert.equal(loaded.orphan, true);
  assert.deepEqual([loaded.record.Name, loaded.record.ImageName, loaded.record.Path, loaded.record.Args], ['half', 'busybox:latest', 'sleep', ['5']]);
  // no config.json either: the name comes from the names index
  fs.rmSync(path.join(root, 'containers', id, 'config.json'));
  assert.equal(loadRecordOrOrphan(root, id)!.record.Name, 'half');
  // a malformed container.json is an orphan too (rm can clean it up)
  fs.writeFileSync(path.join(root, 'containers', id, 'container.json'), '{');
  assert.equal(loadRecordOrOrphan(root, id)!.orphan, true);
  assert.equal(loadRecordOrOrphan(root, 'e'.repeat(64)), undefined);
});

test('withContainerLock: per container, exclusive, and a removed container stays removed', async () => {
  const root = tempStore('state');
  const a = fakeContainer(root);
  const b = fakeContainer(root);
  const order: string[] = [];
  let waiter: Promise<unknown> | undefined;
  await withContainerLock(root, a, async () => {
    assert.equal(tryContainerLock(root, a), undefined, 'held: no second holder');
    const other = tryContainerLock(root, b);
    assert.ok(other, 'another container is not blocked');
    other.release();
    waiter = withContainerLock(root, a, async () => order.push('second'));
    await new Promise((r) => setTimeout(r, 30));
    order.push('first');
    await saveState(root, a, { Status: 'exited', Pid: 0, RestartCount: 0, ExitCode: 1 });
  });
  await waiter;
  assert.deepEqual(order, ['first', 'second']);
  assert.equal(loadState(root, a)!.ExitCode, 1);

  // waiting for the lock of a container that is removed meanwhile: NotFoundError, and no directory comes back
  let removedWait: Promise<unknown> | undefined;
  await withContainerLock(root, b, async () => {
    removedWait = withContainerLock(root, b, async () => 'ran').catch((err: unknown) => err);
    await new Promise((r) => setTimeout(r, 20));
    fs.rmSync(path.join(root, 'containers', b), { recursive: true });
  });
  const err = await removedWait;
  assert.ok(err instanceof NotFoundError, String(err));
  assert.equal(fs.existsSync(path.join(root, 'containers', b)), false);
  await assert.rejects(withContainerLock(root, b, async () => 1), /No such container/);
});
