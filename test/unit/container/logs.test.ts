import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { LineAssembler, normalizeTimestamp, parseGoDuration, parseLogLine, parseTimeArg, readLogs, type LogLine } from '../../../src/container/logs.js';
import { tempStore } from './fixtures.js';

const T = (s: number) => `2024-01-02T15:04:${String(s).padStart(2, '0')}.000000000Z`;
/** Wait (up to 5 s) until `cond` holds: the follow tests do not depend on how fast the poller is scheduled. */
async function eventually(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(cond(), 'condition not reached in 5 s');
}
const text = (lines: LogLine[]) => lines.map((l) => `${l.stream}:${l.data.toString()}${l.complete ? '' : '…'}`);

describe('k8s-file records', () => {
  test('parseLogLine: time, stream, F/P, text with spaces; malformed lines are skipped', () => {
    const r = parseLogLine(Buffer.from('2024-01-02T15:04:05.123Z stdout F hello  world '))!;
    assert.deepEqual([r.time, r.stream, r.partial, r.data.toString()], ['2024-01-02T15:04:05.123000000Z', 'stdout', false, 'hello  world ']);
    assert.equal(parseLogLine(Buffer.from('2024-01-02T15:04:05Z stderr P ab'))!.partial, true);
    assert.equal(parseLogLine(Buffer.from('2024-01-02T15:04:05Z stdout F'))!.data.length, 0);
    for (const bad of ['', 'garbage', '2024-01-02T15:04:05Z stdin F x', '2024-01-02T15:04:05Z stdout X x', 'notatime stdout F x', '2024-01-02T15:04:05Z stdout Fx']) {
      assert.equal(parseLogLine(Buffer.from(bad)), undefined, bad);
    }
    // bytes are kept as they are
    const bin = Buffer.concat([Buffer.from('2024-01-02T15:04:05Z stdout F '), Buffer.from([0xff, 0x00, 0xc3])]);
    assert.deepEqual([...parseLogLine(bin)!.data], [0xff, 0x00, 0xc3]);
  });

  test('normalizeTimestamp: fixed 9-digit fraction, UTC', () => {
    assert.equal(normalizeTimestamp('2024-01-02T15:04:05Z'), '2024-01-02T15:04:05.000000000Z');
    assert.equal(normalizeTimestamp('2024-01-02T15:04:05.123456789Z'), '2024-01-02T15:04:05.123456789Z');
    assert.equal(normalizeTimestamp('2024-01-02T17:04:05.5+02:00'), '2024-01-02T15:04:05.500000000Z');
    assert.equal(normalizeTimestamp('yesterday'), undefined);
  });

  test('LineAssembler joins P records per stream; the line keeps its first time', () => {
    const a = new LineAssembler();
    const push = (s: string) => a.push(parseLogLine(Buffer.from(s))!);
    assert.equal(push(`${T(1)} stdout P ab`), undefined);
    assert.equal(push(`${T(2)} stderr P x`), undefined);
    const out = push(`${T(3)} stdout F cd`)!;
    assert.deepEqual([out.time, out.data.toString(), out.complete], [T(1), 'abcd', true]);
    assert.deepEqual(text(a.drain()), ['stderr:x…']);
    assert.deepEqual(a.drain(), []);
  });
});

describe('--since / --until values (docker timetypes.GetTimestamp)', () => {
  const now = Date.parse('2024-01-02T15:04:05.750Z');
  test('durations, Unix times, RFC3339 forms', () => {
    assert.equal(parseGoDuration('10m'), 600_000);
    assert.equal(parseGoDuration('1h30m'), 5_400_000);
    assert.equal(parseGoDuration('1.5s'), 1500);
    assert.equal(parseGoDuration('10'), undefined);
    assert.equal(parseTimeArg('10m', now), '2024-01-02T14:54:05.000000000Z', 'relative, truncated to the second');
    assert.equal(parseTimeArg('1704207845', now), '2024-01-02T15:04:05.000000000Z');
    assert.equal(parseTimeArg('1704207845.25', now), '2024-01-02T15:04:05.250000000Z');
    assert.equal(parseTimeArg('2024-01-02T15:04:05Z', now), '2024-01-02T15:04:05.000000000Z');
    assert.equal(parseTimeArg('2024-01-02T15:04:05.123456789Z', now), '2024-01-02T15:04:05.123456789Z');
    assert.equal(parseTimeArg('2024-01-02T17:04:05+02:00', now), '2024-01-02T15:04:05.000000000Z');
    // no zone: local time
    const local = new Date(2024, 0, 2, 15, 4).toISOString().slice(0, 19);
    assert.equal(parseTimeArg('2024-01-02T15:04', now), `${local}.000000000Z`);
    assert.throws(() => parseTimeArg('soon', now), /invalid value for "since": failed to parse value as time or duration: "soon"/);
    assert.throws(() => parseTimeArg('x', now, 'until'), /invalid value for "until"/);
  });
});

describe('readLogs', () => {
  const write = (root: string, name: string, lines: string[], end = '\n') => fs.writeFileSync(path.join(root, name), lines.join('\n') + end);
  const files = (root: string) => ({ log: path.join(root, 'ctr.log'), rotated: path.join(root, 'ctr.log.1') });
  const read = async (root: string, opts: Parameters<typeof readLogs>[1] = {}) => {
    const out: LogLine[] = [];
    await readLogs(files(root), opts, (l) => void out.push(l));
    return out;
  };

  test('rotated file first, partials reassembled, tail before since/until', async () => {
    const root = tempStore('logs');
    write(root, 'ctr.log.1', [`${T(1)} stdout F one`, `${T(2)} stdout P tw`]);
    write(root, 'ctr.log', [`${T(3)} stdout F o`, `${T(4)} stderr F err`, 'junk', `${T(5)} stdout F five`, `${T(6)} stdout P tail-`]);
    assert.deepEqual(text(await read(root)), ['stdout:one', 'stdout:two', 'stderr:err', 'stdout:five', 'stdout:tail-…']);
    assert.deepEqual(text(await read(root, { tail: 2 })), ['stdout:five', 'stdout:tail-…']);
    assert.deepEqual(await read(root, { tail: 0 }), []);
    assert.deepEqual(text(await read(root, { since: T(4) })), ['stderr:err', 'stdout:five', 'stdout:tail-…']);
    assert.deepEqual(text(await read(root, { until: T(4) })), ['stdout:one', 'stdout:two', 'stderr:err']);
    assert.deepEqual(text(await read(root, { tail: 3, since: T(5) })), ['stdout:five', 'stdout:tail-…'], 'tail first, then since');
    assert.equal((await read(root))[1]!.time, T(2), 'a reassembled line has its first record\'s time');
  });

  test('a last line without its newline is skipped while the container runs', async () => {
    const root = tempStore('logs');
    write(root, 'ctr.log', [`${T(1)} stdout F done`, `${T(2)} stdout F half-writ`], '');
    assert.deepEqual(text(await read(root, { running: () => true })), ['stdout:done']);
    assert.deepEqual(text(await read(root, { running: () => false })), ['stdout:done', 'stdout:half-writ']);
  });

  test('follow: appended lines and a rotation are picked up; ends when the container stops and the log is drained', async () => {
    const root = tempStore('logs');
    const { log, rotated } = files(root);
    write(root, 'ctr.log', [`${T(1)} stdout F first`]);
    let running = true;
    const out: LogLine[] = [];
    const done = readLogs(files(root), { follow: true, running: () => running, pollMs: 10 }, (l) => void out.push(l));
    await eventually(() => out.length === 1);
    fs.appendFileSync(log, `${T(2)} stdout P sec`);
    await new Promise((r) => setTimeout(r, 40));
    // the record is not complete before its newline: nothing yet
    assert.deepEqual(text(out), ['stdout:first']);
    fs.appendFileSync(log, `\n`);
    await eventually(() => out.length === 2);
    fs.appendFileSync(log, `${T(3)} stdout F ond\n`);
    await eventually(() => out.length === 3);
    fs.renameSync(log, rotated);
    fs.writeFileSync(log, `${T(4)} stderr F after rotation\n`);
    await eventually(() => out.length === 4);
    fs.appendFileSync(log, `${T(5)} stdout F last\n`);
    running = false;
    await done;
    // the partial was shown while nothing else came (as a line start), its continuation completes it
    assert.deepEqual(text(out), ['stdout:first', 'stdout:sec…', 'stdout:ond', 'stderr:after rotation', 'stdout:last']);
  });

  test('follow: a pending partial is shown while waiting; until ends following', async () => {
    const root = tempStore('logs');
    write(root, 'ctr.log', [`${T(1)} stdout P prompt> `]);
    const out: LogLine[] = [];
    let running = true;
    const done = readLogs(files(root), { follow: true, running: () => running, pollMs: 10 }, (l) => void out.push(l));
    await eventually(() => out.length === 1);
    assert.deepEqual(text(out), ['stdout:prompt> …']);
    fs.appendFileSync(files(root).log, `${T(2)} stdout F answer\n${T(9)} stdout F later\n`);
    running = false;
    await done;
    assert.deepEqual(text(out), ['stdout:prompt> …', 'stdout:answer', 'stdout:later']);
    // --until in the past ends following even though the container keeps running and writes nothing
    const t0 = Date.now();
    await readLogs(files(root), { follow: true, until: parseTimeArg('1s'), running: () => true, pollMs: 10 }, () => {});
    assert.ok(Date.now() - t0 < 1000);
    const until: LogLine[] = [];
    await readLogs(files(root), { follow: true, until: T(2), running: () => true, pollMs: 10 }, (l) => void until.push(l));
    assert.deepEqual(text(until), ['stdout:prompt> answer']);
  });
});
