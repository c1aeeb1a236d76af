import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { MAX_LINE, PLACEHOLDER, eventLine, eventTemplate } from '../../../src/events/line.js';
import { appendEvent, eventLogPaths } from '../../../src/events/log.js';
import { matchEvent } from '../../../src/events/filter.js';
import { parseEventLine, readEvents, type LoggedEvent } from '../../../src/events/read.js';
import { eventTime } from '../../../src/api/events.js';
import { parseFilters } from '../../../src/api/prune-filters.js';
import { EVENT_FILTER_KEYS } from '../../../src/events/filter.js';
import type { EngineEvent } from '../../../src/events/types.js';
import { eventText } from '../../../src/cli/commands/events.js';

const T = 1_765_101_600_123_456_789n; // 2025-12-07T10:00:00.123456789Z

function ev(over: Partial<EngineEvent> & { attrs?: Record<string, string> } = {}): EngineEvent {
  const { attrs, ...rest } = over;
  return { Type: 'container', Action: 'start', Actor: { ID: 'abc123def', Attributes: { name: 'web', image: 'docker.io/library/busybox:latest', ...attrs } }, scope: 'local', time: 0, timeNano: 0, ...rest };
}

describe('events: the line writer', () => {
  it('writes docker\'s shape, timeNano with every digit', () => {
    const line = eventLine({ type: 'container', action: 'die', id: 'c1', from: 'busybox', attributes: { exitCode: '3', name: 'x' } }, T);
    assert.ok(line.endsWith('}\n'));
    assert.equal(line, `{"status":"die","id":"c1","from":"busybox","Type":"container","Action":"die","Actor":{"ID":"c1","Attributes":{"exitCode":"3","name":"x"}},"scope":"local","time":1765101600,"timeNano":${T}}\n`);
    assert.equal(parseEventLine(line)!.timeNano, T);
    // volume and network events have no legacy fields
    assert.ok(eventLine({ type: 'volume', action: 'create', id: 'v' }, T).startsWith('{"Type":"volume"'));
  });

  it('keeps a line under MAX_LINE: long values shortened, then dropped (name and image kept)', () => {
    const big = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`label${i}`, 'v'.repeat(1000)]));
    const line = eventLine({ type: 'container', action: 'start', id: 'c', attributes: { ...big, name: 'n', image: 'i' } }, T);
    assert.ok(Buffer.byteLength(line) <= MAX_LINE);
    const parsed = parseEventLine(line)!.event;
    assert.equal(parsed.Actor.Attributes.name, 'n');
    assert.equal(parsed.Actor.Attributes.image, 'i');
  });

  it('a monitor template: raw placeholder bytes only where the C substitutes, never from a label', () => {
    const tpl = eventTemplate({ type: 'container', action: 'die', id: 'c', attributes: { evil: `x","exitCode":"${PLACEHOLDER.exitCode}`, exitCode: PLACEHOLDER.exitCode } });
    assert.equal(tpl.split(PLACEHOLDER.exitCode).length, 2, 'one exit code placeholder');
    assert.equal(tpl.split(PLACEHOLDER.time).length, 2);
    assert.equal(tpl.split(PLACEHOLDER.timeNano).length, 2);
    // what the C does: the result parses
    const line = tpl.replace(PLACEHOLDER.exitCode, '137').replace(PLACEHOLDER.time, '1765101600').replace(PLACEHOLDER.timeNano, String(T));
    const parsed = parseEventLine(line)!;
    assert.equal(parsed.event.Actor.Attributes.exitCode, '137');
    assert.equal(parsed.event.Actor.Attributes.evil, `x","exitCode":"${PLACEHOLDER.exitCode}`);
    assert.equal(parsed.timeNano, T);
  });

  it('a killed writer\'s fragment: skipped, and the whole line glued after it is read (even with a label named Type)', () => {
    const whole = eventLine({ type: 'container', action: 'die', id: 'c2', attributes: { Type: 'x', status: 'y', name: 'n' } }, T);
    const fragment = eventLine({ type: 'volume', action: 'create', id: 'v' }, T).slice(0, 40);
    const glued = parseEventLine((fragment + whole).trimEnd())!;
    assert.equal(glued.event.Actor.ID, 'c2');
    assert.equal(glued.event.Actor.Attributes.Type, 'x');
    assert.equal(glued.timeNano, T);
    assert.equal(parseEventLine(fragment), undefined);
    assert.equal(parseEventLine('not an event {"Type":"volume"'), undefined);
  });

  it('appends and rotates: .1 then the current file, every line whole, history and follow in order', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdock-events-'));
    try {
      for (let i = 0; i < 200; i++) appendEvent(root, { type: 'volume', action: 'create', id: `v${i}` }, { maxSize: 4096 });
      const p = eventLogPaths(root);
      assert.ok(fs.existsSync(p.rotated));
      assert.ok(!fs.existsSync(p.rotateLock));
      const seen: LoggedEvent[] = [];
      await readEvents(root, { sinceNano: 0n, follow: false }, (e) => seen.push(e));
      const ids = seen.map((e) => Number(e.event.Actor.ID.slice(1)));
      assert.ok(ids.length > 10 && ids.at(-1) === 199);
      assert.deepEqual(ids, [...ids].sort((a, b) => a - b), 'in order');
      // following across rotations: nothing skipped, nothing twice
      const ac = new AbortController();
      const got: string[] = [];
      const done = readEvents(root, { follow: true, signal: ac.signal, pollMs: 10 }, (e) => {
        got.push(e.event.Actor.ID);
        if (got.length === 100) ac.abort();
      });
      await new Promise((r) => setTimeout(r, 50));
      for (let i = 0; i < 100; i++) {
        appendEvent(root, { type: 'volume', action: 'create', id: `f${i}` }, { maxSize: 2048 });
        if (i % 7 === 0) await new Promise((r) => setTimeout(r, 15));
      }
      await done;
      assert.deepEqual(got, Array.from({ length: 100 }, (_, i) => `f${i}`));
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('events: filters', () => {
  const f = (...args: string[]) => parseFilters(args, [...EVENT_FILTER_KEYS]);

  it('same key ORed, keys ANDed', () => {
    assert.ok(matchEvent(ev(), f('event=stop', 'event=start')));
    assert.ok(!matchEvent(ev(), f('event=start', 'type=image')));
    assert.ok(matchEvent(ev(), f('event=start', 'type=container')));
    assert.ok(matchEvent(ev({ Action: 'health_status: healthy' }), f('event=health_status')));
    assert.throws(() => f('nope=1'), /invalid filter 'nope'/);
  });

  it('container= is an id prefix or the name, on container events only', () => {
    assert.ok(matchEvent(ev(), f('container=abc')));
    assert.ok(matchEvent(ev(), f('container=web')));
    assert.ok(!matchEvent(ev(), f('container=zzz')));
    assert.ok(!matchEvent(ev({ Type: 'network', Actor: { ID: 'abc', Attributes: { name: 'n' } } }), f('container=abc')));
  });

  it('image= matches the id or the name, with or without its tag; label= all of them', () => {
    assert.ok(matchEvent(ev(), f('image=docker.io/library/busybox')));
    assert.ok(matchEvent(ev(), f('image=docker.io/library/busybox:latest')));
    assert.ok(matchEvent(ev({ Type: 'image', Actor: { ID: 'sha256:1', Attributes: { name: 'localhost:5000/x:1' } } }), f('image=localhost:5000/x')));
    assert.ok(matchEvent(ev({ attrs: { a: '1', b: '2' } }), f('label=a=1', 'label=b')));
    assert.ok(!matchEvent(ev({ attrs: { a: '1' } }), f('label=a=1', 'label=b')));
  });

  it('volume= and network= by name or id', () => {
    const vol = ev({ Type: 'volume', Actor: { ID: 'data', Attributes: { driver: 'local' } } });
    assert.ok(matchEvent(vol, f('volume=data')));
    assert.ok(!matchEvent(vol, f('network=data')));
    assert.ok(matchEvent(ev({ Type: 'network', Actor: { ID: 'f00d', Attributes: { name: 'net1' } } }), f('network=net1')));
  });
});

describe('events: --since/--until and the default text', () => {
  const now = T;
  it('durations before now (to the second), unix seconds, RFC3339, now', () => {
    assert.equal(eventTime('now', 'until', now), now);
    assert.equal(eventTime('10m', 'since', now), (now / 1_000_000_000n - 600n) * 1_000_000_000n);
    assert.equal(eventTime('1765101600.5', 'since', now), 1_765_101_600_500_000_000n);
    assert.equal(eventTime('2025-12-07T10:00:00.25Z', 'since', now), 1_765_101_600_250_000_000n);
    assert.equal(eventTime('2025-12-07T11:00:00+01:00', 'since', now), 1_765_101_600_000_000_000n);
    assert.throws(() => eventTime('yesterday', 'since', now), /invalid value for "since"/);
  });

  it("docker's line: TIME TYPE ACTION ID (sorted attributes), the time local as docker prints it", () => {
    const tz = process.env.TZ;
    try {
      process.env.TZ = 'UTC';
      assert.equal(eventText(ev({ attrs: { zz: '1' } }), T), '2025-12-07T10:00:00.123456789Z container start abc123def (image=docker.io/library/busybox:latest, name=web, zz=1)');
      assert.equal(eventText(ev({ Actor: { ID: 'x', Attributes: {} } }), T), '2025-12-07T10:00:00.123456789Z container start x');
      process.env.TZ = 'Europe/Berlin';
      assert.equal(eventText(ev({ Actor: { ID: 'x', Attributes: {} } }), T), '2025-12-07T11:00:00.123456789+01:00 container start x');
      process.env.TZ = 'America/St_Johns';
      assert.equal(eventText(ev({ Actor: { ID: 'x', Attributes: {} } }), T), '2025-12-07T06:30:00.123456789-03:30 container start x');
    } finally {
      if (tz === undefined) delete process.env.TZ;
      else process.env.TZ = tz;
    }
  });
});
