import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureHolder, holderFile, liveHolder } from '../../../src/cli/userns-holder.js';
import { parseProcStat, procStat } from '../../../src/sys/proc.js';

test('the holder has its own file name, not "pause"', () => {
  assert.equal(holderFile({ XDG_RUNTIME_DIR: '/run/user/1000' }, 1000), '/run/user/1000/tsdock/userns-holder.pid');
});

test('an upgrade adopts the holder an older version recorded in pause.pid instead of starting a second namespace', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdock-holder-'));
  try {
    const file = path.join(dir, 'userns-holder.pid');
    assert.equal(liveHolder(file), undefined);
    // this test process stands in for the old holder: its pid and start time, as the old version wrote them
    fs.writeFileSync(path.join(dir, 'pause.pid'), `${process.pid} ${procStat(process.pid)!.startTime}\n`);
    assert.equal(liveHolder(file), process.pid);
    // ensureHolder returns it without spawning (a spawn would give another pid)
    assert.equal(await ensureHolder(file, false), process.pid);
    // a stale legacy file (a reused pid: another start time) is not trusted
    fs.writeFileSync(path.join(dir, 'pause.pid'), `${process.pid} 1\n`);
    assert.equal(liveHolder(file), undefined);
    // the new file wins over the legacy one
    fs.writeFileSync(file, `${process.pid} ${procStat(process.pid)!.startTime}\n`);
    assert.equal(liveHolder(file), process.pid);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('parseProcStat: comm with spaces and parentheses, zombies, malformed text', () => {
  const fields = (comm: string, state: string, start: number) => `42 (${comm}) ${state} 1 42 42 0 -1 4194560 ${'0 '.repeat(12)}${start} 1000 200`;
  assert.deepEqual(parseProcStat(fields('sleep', 'S', 12345)), { state: 'S', startTime: 12345, comm: 'sleep' });
  assert.deepEqual(parseProcStat(fields('a) (b c', 'Z', 7)), { state: 'Z', startTime: 7, comm: 'a) (b c' });
  assert.equal(parseProcStat('42 (x) S 1'), undefined);
  assert.equal(parseProcStat('garbage'), undefined);
  const own = procStat(process.pid)!;
  assert.equal(own.state, 'R');
  assert.ok(own.startTime > 0);
  assert.equal(procStat(0), undefined);
});
