import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { humanDuration } from '../../../src/cli/render/units.js';
import { MONITOR_DIED, containerState, currentState, deriveState, isAlive, procStat, statusString, type ProcStat } from '../../../src/container/status.js';
import type { ContainerState } from '../../../src/container/record.js';
import { deadPid, fakeContainer, ownStartTime, tempStore } from './fixtures.js';

const NOW = Date.parse('2024-05-01T12:00:00Z');
const ago = (ms: number) => new Date(NOW - ms).toISOString();
const st = (s: Partial<ContainerState>): ContainerState => ({ Status: 'created', Pid: 0, RestartCount: 0, ...s });
const status = (s: Partial<ContainerState>) => statusString(st(s), humanDuration, NOW);

describe('status strings (docker State.String)', () => {
  test('running, paused, health', () => {
    assert.equal(status({ Status: 'running', StartedAt: ago(3000) }), 'Up 3 seconds');
    assert.equal(status({ Status: 'running', StartedAt: ago(500) }), 'Up Less than a second');
    assert.equal(status({ Status: 'running', StartedAt: ago(61_000) }), 'Up About a minute');
    assert.equal(status({ Status: 'running', StartedAt: ago(2 * 3600_000) }), 'Up 2 hours');
    assert.equal(status({ Status: 'paused', StartedAt: ago(3000) }), 'Up 3 seconds (Paused)');
    assert.equal(status({ Status: 'running', StartedAt: ago(3000), Health: { Status: 'healthy', FailingStreak: 0, Log: [] } }), 'Up 3 seconds (healthy)');
    assert.equal(status({ Status: 'running', StartedAt: ago(3000), Health: { Status: 'starting', FailingStreak: 0, Log: [] } }), 'Up 3 seconds (health: starting)');
  });

  test('exited, created, removing, dead, restarting', () => {
    assert.equal(status({ Status: 'exited', ExitCode: 0, StartedAt: ago(5000), FinishedAt: ago(2000) }), 'Exited (0) 2 seconds ago');
    assert.equal(status({ Status: 'exited', ExitCode: 137, StartedAt: ago(5000), FinishedAt: ago(90 * 60_000) }), 'Exited (137) 2 hours ago');
    assert.equal(status({ Status: 'created' }), 'Created');
    // docker: an exit without a start (a start that failed) still reads Created
    assert.equal(status({ Status: 'exited', ExitCode: 127, FinishedAt: ago(1000) }), 'Created');
    assert.equal(status({ Status: 'exited', StartedAt: '0001-01-01T00:00:00Z' }), 'Created');
    assert.equal(status({ Status: 'removing', StartedAt: ago(1000) }), 'Removal In Progress');
    assert.equal(status({ Status: 'dead' }), 'Dead');
    assert.equal(status({ Status: 'restarting', ExitCode: 1, FinishedAt: ago(5000) }), 'Restarting (1) 5 seconds ago');
  });
});

describe('state derivation (the three rules)', () => {
  const stats = (table: Record<number, ProcStat>) => (pid: number) => table[pid];
  const alive = { 100: { state: 'S', startTime: 42, comm: 'sh' }, 200: { state: 'S', startTime: 7, comm: 'tsdock-exec' }, 300: { state: 'Z', startTime: 9, comm: 'sh' } };
  const running = st({ Status: 'running', Pid: 100, PidStartTime: 42, StartedAt: ago(1000) });

  test('exit.json wins over everything but removing', () => {
    const d = deriveState(running, { ExitCode: 3, Signal: 0, FinishedAt: ago(10) }, { stat: stats(alive) });
    assert.equal(d.Status, 'exited');
    assert.equal(d.ExitCode, 3);
    assert.equal(d.Pid, 0);
    assert.equal(d.FinishedAt, ago(10));
    assert.equal(deriveState(st({ Status: 'removing' }), { ExitCode: 3, Signal: 0, FinishedAt: ago(10) }).Status, 'removing');
    // an early "monitor died" verdict is replaced by the real exit
    const verdict = st({ Status: 'exited', ExitCode: 137, Error: MONITOR_DIED });
    assert.equal(deriveState(verdict, { ExitCode: 7, Signal: 0, FinishedAt: ago(10) }).Error, undefined);
  });

  test('running only while the init pid is alive with its recorded start time', () => {
    assert.equal(deriveState(running, undefined, { stat: stats(alive) }).Status, 'running');
    // pid reused by another process
    const reused = deriveState({ ...running, PidStartTime: 41 }, undefined, { stat: stats(alive), now: NOW });
    assert.deepEqual([reused.Status, reused.ExitCode, reused.Error, reused.FinishedAt], ['exited', 137, MONITOR_DIED, new Date(NOW).toISOString()]);
    // a zombie is not running
    assert.equal(deriveState({ ...running, Pid: 300, PidStartTime: 9 }, undefined, { stat: stats(alive) }).Status, 'exited');
    // init gone but the monitor still lives: it is about to write exit.json
    assert.equal(deriveState({ ...running, Pid: 999, MonitorPid: 200 }, undefined, { stat: stats(alive) }).Status, 'running');
    // a monitor pid reused by something else does not count
    assert.equal(deriveState({ ...running, Pid: 999, MonitorPid: 100 }, undefined, { stat: stats(alive) }).Status, 'exited');
    assert.equal(deriveState({ ...running, Pid: 999, MonitorPid: 100, MonitorStartTime: 42 }, undefined, { stat: stats(alive) }).Status, 'running');
  });

  test('other recorded states stand; no state.json is created', () => {
    assert.equal(deriveState(undefined, undefined).Status, 'created');
    assert.equal(deriveState(st({ Status: 'exited', ExitCode: 2 }), undefined).ExitCode, 2);
    assert.equal(deriveState(st({ Status: 'restarting' }), undefined).Status, 'restarting');
  });

  test('procStat reads field 22 and the state of a live process', () => {
    const self = procStat(process.pid)!;
    assert.equal(self.startTime, ownStartTime());
    assert.equal(self.state === 'R' || self.state === 'S', true);
    assert.equal(procStat(deadPid()), undefined);
    assert.equal(isAlive(process.pid, ownStartTime()), true);
    assert.equal(isAlive(process.pid, ownStartTime() + 1), false);
    assert.equal(isAlive(0), false);
  });
});

describe('currentState on container directories', () => {
  test('a live pid with its real start time is running; state.json is left alone', async () => {
    const root = tempStore('status');
    const state = st({ Status: 'running', Pid: process.pid, PidStartTime: ownStartTime(), StartedAt: ago(1000) });
    const id = fakeContainer(root, { state });
    const before = fs.readFileSync(path.join(root, 'containers', id, 'state.json'), 'utf8');
    assert.equal((await currentState(root, id)).Status, 'running');
    assert.equal(fs.readFileSync(path.join(root, 'containers', id, 'state.json'), 'utf8'), before);
  });

  test('a dead pid without exit.json: exited 137 "container monitor died", written back lazily', async () => {
    const root = tempStore('status');
    const id = fakeContainer(root, { state: st({ Status: 'running', Pid: deadPid(), PidStartTime: 1, StartedAt: ago(1000) }) });
    const s = await currentState(root, id);
    assert.deepEqual([s.Status, s.ExitCode, s.Error, s.Pid], ['exited', 137, MONITOR_DIED, 0]);
    const saved = JSON.parse(fs.readFileSync(path.join(root, 'containers', id, 'state.json'), 'utf8')) as ContainerState;
    assert.deepEqual([saved.Status, saved.ExitCode, saved.Error], ['exited', 137, MONITOR_DIED]);
    // the verdict is stable: FinishedAt does not move on the next look
    assert.equal((await currentState(root, id)).FinishedAt, saved.FinishedAt);
  });

  test('exit.json wins and is copied into state.json; update:false writes nothing', async () => {
    const root = tempStore('status');
    const exit = { ExitCode: 3, Signal: 0, FinishedAt: ago(100) };
    const id = fakeContainer(root, { state: st({ Status: 'running', Pid: process.pid, PidStartTime: ownStartTime(), StartedAt: ago(1000) }), exit });
    const file = path.join(root, 'containers', id, 'state.json');
    assert.equal((await currentState(root, id, { update: false })).ExitCode, 3);
    assert.equal((JSON.parse(fs.readFileSync(file, 'utf8')) as ContainerState).Status, 'running');
    assert.equal((await currentState(root, id)).Status, 'exited');
    const saved = JSON.parse(fs.readFileSync(file, 'utf8')) as ContainerState;
    assert.deepEqual([saved.Status, saved.ExitCode, saved.FinishedAt, saved.Pid], ['exited', 3, exit.FinishedAt, 0]);
  });

  test('no state.json: created; an orphan: dead', async () => {
    const root = tempStore('status');
    assert.equal((await currentState(root, fakeContainer(root))).Status, 'created');
    const orphan = fakeContainer(root, { orphan: true });
    assert.equal((await containerState(root, orphan, true)).Status, 'dead');
  });
});
