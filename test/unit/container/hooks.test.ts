import { test } from 'node:test';
import assert from 'node:assert/strict';
import { collectHookGarbage, registerHooks, runHooks } from '../../../src/container/hooks.js';
import type { Context } from '../../../src/context.js';
import type { ContainerRecord } from '../../../src/container/record.js';

test('hooks run in registration order, teardown phases in reverse, garbage collection sees the live ids', async () => {
  const calls: string[] = [];
  for (const name of ['net', 'cgroup']) {
    registerHooks({
      name,
      beforeStart: async (c) => void calls.push(`${name}:beforeStart:${c.id}`),
      afterStart: async (c) => void calls.push(`${name}:afterStart:${(c as { pid: number }).pid}`),
      afterStop: async () => void calls.push(`${name}:afterStop`),
      onRemove: async () => void calls.push(`${name}:onRemove`),
      collectGarbage: async (live) => void calls.push(`${name}:gc:${[...live].join(',')}`),
    });
  }
  registerHooks({ name: 'net' }); // registering a name twice keeps the first
  const c = { id: 'abc', record: {} as ContainerRecord };
  const ctx = {} as Context;
  await runHooks('beforeStart', c, ctx);
  await runHooks('afterStart', { ...c, pid: 42 }, ctx);
  await runHooks('afterStop', c, ctx);
  await runHooks('onRemove', c, ctx);
  await collectHookGarbage(new Set(['x']), ctx);
  assert.deepEqual(calls, [
    'net:beforeStart:abc', 'cgroup:beforeStart:abc',
    'net:afterStart:42', 'cgroup:afterStart:42',
    'cgroup:afterStop', 'net:afterStop',
    'cgroup:onRemove', 'net:onRemove',
    'net:gc:x', 'cgroup:gc:x',
  ]);
});
