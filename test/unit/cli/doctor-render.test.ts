import { test } from 'node:test';
import assert from 'node:assert/strict';
import { painter, renderChecks } from '../../../src/cli/render/doctor.js';

const rows = [
  { name: 'kernel', status: 'PASS' as const, message: 'Linux 6.1', fix: '' },
  { name: '/dev/net/tun', status: 'FAIL' as const, message: '/dev/net/tun is missing', fix: 'sudo modprobe tun' },
  { name: 'disk space', status: 'WARN' as const, message: 'low', fix: 'tsdock image prune -a' },
];

test('doctor render: aligned names, the fix under each problem, a summary; plain without colour', async () => {
  const text = renderChecks(rows, await painter(false));
  assert.equal(text, [
    'PASS  kernel        Linux 6.1',
    'FAIL  /dev/net/tun  /dev/net/tun is missing',
    '                    fix: sudo modprobe tun',
    'WARN  disk space    low',
    '                    fix: tsdock image prune -a',
    '',
    '1 failed, 1 warning',
  ].join('\n'));
  assert.match(renderChecks(rows.slice(0, 1), await painter(false)), /\nno failures$/);
});

test('doctor render: colour through chalk when asked', async () => {
  const text = renderChecks(rows, await painter(true));
  assert.match(text, /^\x1b\[32mPASS\x1b\[39m {2}kernel/);
  assert.match(text, /\x1b\[31m\x1b\[1mFAIL/);
});
