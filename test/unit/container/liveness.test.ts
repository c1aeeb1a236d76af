import { test } from 'node:test';
import assert from 'node:assert/strict';
import { actionablePid, deriveState, liveness, type ProcStat } from '../../../src/container/status.js';
import type { ContainerState } from '../../../src/container/record.js';

const running: ContainerState = { Status: 'running', Pid: 300, PidStartTime: 7, MonitorPid: 200, RestartCount: 0 };
const monitor: ProcStat = { state: 'S', startTime: 5, comm: 'tsdock-exec' };

/** a fake /proc that counts its reads */
function proc(table: Record<number, ProcStat>) {
  const reads: number[] = [];
  return { reads, stat: (pid: number) => (reads.push(pid), table[pid]) };
}

test('one decision: ps/inspect and stop/exec agree on running, the drain window and a dead monitor', () => {
  const cases: Array<[string, Record<number, ProcStat>, 'running' | 'exiting' | 'gone', string, number | undefined]> = [
    ['init alive', { 300: { state: 'S', startTime: 7, comm: 'sh' }, 200: monitor }, 'running', 'running', 300],
    // the drain window: the init is a zombie (or reaped), the monitor still takes its last output
    ['init zombie, monitor draining', { 300: { state: 'Z', startTime: 7, comm: 'sh' }, 200: monitor }, 'exiting', 'running', undefined],
    ['init reaped, monitor draining', { 200: monitor }, 'exiting', 'running', undefined],
    ['init pid reused', { 300: { state: 'S', startTime: 99, comm: 'x' }, 200: monitor }, 'exiting', 'running', undefined],
    ['both gone', {}, 'gone', 'exited', undefined],
    ['monitor pid reused by another program', { 200: { ...monitor, comm: 'bash' } }, 'gone', 'exited', undefined],
  ];
  for (const [what, table, want, status, pid] of cases) {
    assert.equal(liveness(running, proc(table).stat), want, what);
    assert.equal(deriveState(running, undefined, { stat: proc(table).stat }).Status, status, what);
    assert.equal(actionablePid(running, false, proc(table).stat), pid, what);
  }
  // exit.json written: nothing to act on whatever /proc says
  assert.equal(actionablePid(running, true, proc({ 300: { state: 'S', startTime: 7, comm: 'sh' } }).stat), undefined);
  assert.equal(actionablePid({ ...running, Status: 'created' }, false, proc({ 300: { state: 'S', startTime: 7, comm: 'sh' } }).stat), undefined);
});

test('the polled decision reads /proc once while running, once per process in the drain window', () => {
  const alive = proc({ 300: { state: 'S', startTime: 7, comm: 'sh' }, 200: monitor });
  deriveState(running, undefined, { stat: alive.stat });
  assert.deepEqual(alive.reads, [300]);
  // the monitor without a recorded start time is recognised by its comm: from the same read (it was read twice)
  const draining = proc({ 200: monitor });
  deriveState(running, undefined, { stat: draining.stat });
  assert.deepEqual(draining.reads, [300, 200]);
});
