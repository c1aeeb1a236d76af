import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { isRoot } from './shared-harness.js';
import { bin, repoDir, testStore, tsdock } from './helpers.js';
import { parseEventLine } from '../../src/events/read.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Ev {
  Type: string;
  Action: string;
  Actor: { ID: string; Attributes: Record<string, string> };
  time: number;
  timeNano: number;
}

/** every line of the store's event log (and its rotated file), each parsed: a torn line fails the test */
/**
 * The events of both files as the reader sees them, and how many lines were not whole: a writer killed by
 * SIGKILL mid-write can leave its line's first part, which the reader skips (events/read.ts).
 */
function logLines(root: string, torn = { count: 0 }): Ev[] {
  const out: Ev[] = [];
  for (const f of ['events.log.1', 'events.log']) {
    const file = path.join(root, 'events', f);
    if (!fs.existsSync(file)) continue;
    for (const line of fs.readFileSync(file, 'utf8').split('\n').filter(Boolean)) {
      const ev = parseEventLine(line);
      if (ev) out.push(ev.event as unknown as Ev);
      if (!isWholeJson(line)) torn.count++;
    }
  }
  return out;
}

function isWholeJson(line: string): boolean {
  try {
    JSON.parse(line);
    return true;
  } catch {
    return false;
  }
}

function logSize(root: string): number {
  return ['events.log', 'events.log.1'].reduce((n, f) => n + (fs.statSync(path.join(root, 'events', f), { throwIfNoEntry: false })?.size ?? 0), 0);
}

/** `events ARGS` in the background; its output lines as they come */
function follow(root: string, args: string[]): { child: ChildProcess; lines: string[]; until(pred: (lines: string[]) => boolean, ms?: number): Promise<void> } {
  const child = spawn(process.execPath, [bin, '--root', root, 'events', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let rest = '';
  child.stdout!.on('data', (d: Buffer) => {
    const parts = (rest + d.toString()).split('\n');
    rest = parts.pop()!;
    lines.push(...parts);
  });
  return {
    child,
    lines,
    async until(pred, ms = 10_000) {
      const end = Date.now() + ms;
      while (!pred(lines) && Date.now() < end) await sleep(50);
      assert.ok(pred(lines), `events saw: ${lines.join('\n')}`);
    },
  };
}

describe('events: the store event log', { skip: !isRoot && 'needs root' }, () => {
  const store = testStore('events');

  test('events --since 1m --until now --filter event=start lists a container started a moment ago', async () => {
    const id = (await store.ok(['run', '-d', '--name', 'ev-start', '--label', 'team=blue', store.image, 'sleep', '30'])).trim();
    const r = await tsdock(['events', '--since', '1m', '--until', 'now', '--filter', 'event=start'], { root: store.root, timeoutMs: 10_000 });
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 1, r.stdout);
    assert.match(lines[0]!, new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{9}(Z|[+-]\\d\\d:\\d\\d) container start ${id} \\(image=${store.image.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}, name=ev-start, team=blue\\)$`));
    // json and a template, other filters ANDed, label and container by name
    const j = await tsdock(['events', '--since', '1m', '--until', 'now', '--format', 'json', '--filter', 'container=ev-start', '--filter', 'label=team=blue'], { root: store.root });
    const evs = j.stdout.trim().split('\n').map((l) => JSON.parse(l) as Ev);
    assert.deepEqual(evs.map((e) => e.Action), ['create', 'start']);
    assert.ok(evs.every((e) => e.Actor.ID === id && e.Type === 'container'));
    const tpl = await tsdock(['events', '--since', '1m', '--until', 'now', '--format', '{{.Type}}/{{.Action}}/{{.Actor.Attributes.name}}', '--filter', 'type=container', '--filter', 'container=' + id.slice(0, 8)], { root: store.root });
    assert.equal(tpl.stdout, 'container/create/ev-start\ncontainer/start/ev-start\n');
    await store.ok(['rm', '-f', 'ev-start']);
  });

  test('events in the background sees run, stop, rm of another CLI in order, each once; the monitor writes die with its exit code', async () => {
    const f = follow(store.root, ['--filter', 'container=ev-bg', '--format', '{{.Action}} {{.Actor.Attributes.exitCode}}']);
    try {
      await sleep(700); // the follower is reading
      await store.ok(['run', '-d', '--name', 'ev-bg', store.image, 'sh', '-c', 'trap "exit 3" TERM; while :; do sleep 0.1; done']);
      await store.ok(['stop', 'ev-bg']);
      await store.ok(['rm', 'ev-bg']);
      await f.until((l) => l.some((x) => x.startsWith('destroy')));
      await sleep(500); // nothing comes twice
      assert.deepEqual(f.lines, ['create <no value>', 'start <no value>', 'kill <no value>', 'die 3', 'stop <no value>', 'destroy <no value>']);
    } finally {
      f.child.kill('SIGINT');
    }
    // the die line is the C monitor's: it carries the docker fields and the exact exit code
    const die = logLines(store.root).find((e) => e.Action === 'die' && e.Actor.Attributes.name === 'ev-bg')!;
    assert.equal(die.Actor.Attributes.exitCode, '3');
    assert.equal(die.time, Math.floor(die.timeNano / 1e9));
    assert.ok(Math.abs(Date.now() / 1000 - die.time) < 60);
  });

  test('a detached container that ends at once: its start still comes before its die (the monitor writes both)', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await store.ok(['run', '-d', store.image, 'true'])).trim());
    await store.ok(['wait', ...ids]);
    // die follows the exit file that `wait` saw
    const dies = () => logLines(store.root).filter((e) => e.Action === 'die' && ids.includes(e.Actor.ID)).length;
    for (let i = 0; i < 100 && dies() < ids.length; i++) await sleep(50);
    const evs = logLines(store.root);
    for (const id of ids) {
      const actions = evs.filter((e) => e.Actor.ID === id && (e.Action === 'start' || e.Action === 'die')).map((e) => e.Action);
      assert.deepEqual(actions, ['start', 'die'], id);
    }
    await store.ok(['rm', ...ids]);
  });

  test('restart: kill, die, stop, start, then restart', async () => {
    const id = (await store.ok(['run', '-d', store.image, 'sleep', '30'])).trim();
    await store.ok(['restart', '-t', '0', id]);
    const actions = logLines(store.root).filter((e) => e.Actor.ID === id).map((e) => e.Action);
    const after = actions.slice(actions.indexOf('start') + 1);
    assert.deepEqual(after.slice(-2), ['start', 'restart'], actions.join(' '));
    assert.ok(after.includes('die') && after.includes('stop'), actions.join(' '));
    await store.ok(['rm', '-f', id]);
  });

  test('a foreground run --rm: create, start, die (exit code), destroy; exec events', async () => {
    const f = follow(store.root, ['--filter', 'type=container', '--format', '{{.Action}} {{.Actor.Attributes.exitCode}}']);
    try {
      await sleep(700);
      const r = await tsdock(['run', '--rm', '--name', 'ev-fg', store.image, 'sh', '-c', 'exit 7'], { root: store.root });
      assert.equal(r.code, 7, r.stderr);
      await f.until((l) => l.some((x) => x.startsWith('destroy')));
      assert.deepEqual(f.lines, ['create <no value>', 'start <no value>', 'die 7', 'destroy <no value>']);
    } finally {
      f.child.kill('SIGINT');
    }
    await store.ok(['run', '-d', '--name', 'ev-exec', store.image, 'sleep', '30']);
    assert.equal((await tsdock(['exec', 'ev-exec', 'sh', '-c', 'exit 4'], { root: store.root })).code, 4);
    const r = await tsdock(['events', '--since', '30s', '--until', 'now', '--filter', 'event=exec_die', '--format', '{{.Actor.Attributes.exitCode}} {{.Actor.Attributes.name}}'], { root: store.root });
    assert.equal(r.stdout, '4 ev-exec\n');
    await store.ok(['rm', '-f', 'ev-exec']);
  });

  test('image, volume and network events', async () => {
    const since = String(Date.now() / 1000);
    await store.ok(['tag', store.image, 'localhost/ev-tag:1']);
    await store.ok(['rmi', 'localhost/ev-tag:1']);
    await store.ok(['volume', 'create', 'ev-vol']);
    await store.ok(['volume', 'rm', 'ev-vol']);
    await store.ok(['network', 'create', 'ev-net']);
    const conn = (await store.ok(['create', '--name', 'ev-conn', store.image, 'true'])).trim();
    await store.ok(['network', 'connect', 'ev-net', 'ev-conn']);
    await store.ok(['network', 'disconnect', 'ev-net', 'ev-conn']);
    await store.ok(['network', 'rm', 'ev-net']);
    await store.ok(['rm', 'ev-conn']);
    const r = await tsdock(['events', '--since', since, '--until', 'now', '--filter', 'type=image', '--filter', 'type=volume', '--filter', 'type=network', '--format', '{{.Type}} {{.Action}} {{.Actor.Attributes.name}} {{.Actor.Attributes.container}}'], { root: store.root });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n').map((l) => l.trimEnd()), [
      'image tag localhost/ev-tag:1 <no value>',
      'image untag localhost/ev-tag:1 <no value>',
      'volume create <no value> <no value>',
      'volume destroy <no value> <no value>',
      'network create ev-net <no value>',
      `network connect ev-net ${conn}`,
      `network disconnect ev-net ${conn}`,
      'network destroy ev-net <no value>',
    ]);
    const v = await tsdock(['events', '--since', since, '--until', 'now', '--filter', 'volume=ev-vol', '--format', '{{.Action}}'], { root: store.root });
    assert.equal(v.stdout, 'create\ndestroy\n');
  });

  test('a start connects the container to its network and its stop disconnects it (network events, as docker writes)', async () => {
    const since = String(Date.now() / 1000);
    await store.ok(['network', 'create', 'ev-net2']);
    const id = (await store.ok(['run', '-d', '--network', 'ev-net2', store.image, 'sleep', '30'])).trim();
    try {
      await store.ok(['stop', '-t', '0', id]);
    } finally {
      await tsdock(['rm', '-f', id], { root: store.root });
      await tsdock(['network', 'rm', 'ev-net2'], { root: store.root });
    }
    // by network: the earlier tests' containers may still be disconnected from the default bridge meanwhile
    const r = await tsdock(['events', '--since', since, '--until', 'now', '--filter', 'network=ev-net2', '--format', '{{.Action}} {{.Actor.Attributes.name}} {{.Actor.Attributes.type}} {{.Actor.Attributes.container}}'], { root: store.root });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n').map((l) => l.trimEnd()), [
      'create ev-net2 bridge <no value>',
      `connect ev-net2 bridge ${id}`,
      `disconnect ev-net2 bridge ${id}`,
      'destroy ev-net2 bridge <no value>',
    ]);
  });

  test('10 CLIs writing events at once leave every line intact', async () => {
    const before = logLines(store.root).length;
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => tsdock(['volume', 'create', `ev-par-${i}`], { root: store.root })));
    assert.ok(results.every((r) => r.code === 0));
    await Promise.all(Array.from({ length: 10 }, (_, i) => tsdock(['volume', 'rm', `ev-par-${i}`], { root: store.root })));
    const lines = logLines(store.root);
    assert.equal(lines.length - before, 20);
    for (let i = 0; i < 10; i++) assert.deepEqual(lines.filter((e) => e.Actor.ID === `ev-par-${i}`).map((e) => e.Action), ['create', 'destroy']);
  });

  test('writers killed with -9 lose no other event; rotation keeps lines intact and --since reads across it', async () => {
    // writers appending big events (labels near the line limit) in a loop, killed at random moments
    const writer = `import(${JSON.stringify(path.join(repoDir, 'dist/src/events/log.js'))}).then(({ appendEvent }) => { const big = 'x'.repeat(900); for (let i = 0; ; i++) appendEvent(process.argv[1], { type: 'container', action: 'start', id: 'w' + process.pid, attributes: { n: String(i), a: big, b: big, c: big } }, { maxSize: 256 * 1024 }); })`;
    for (let round = 0; round < 6; round++) {
      const kids = Array.from({ length: 4 }, () => spawn(process.execPath, ['-e', writer, store.root], { stdio: 'ignore' }));
      // killed while they write: once the log has grown, at a random moment
      const size = () => logSize(store.root);
      const start = size();
      for (const end = Date.now() + 10_000; size() < start + 64 * 1024 && Date.now() < end; ) await sleep(20);
      await sleep(Math.random() * 100);
      for (const k of kids) k.kill('SIGKILL');
      await Promise.all(kids.map((k) => new Promise((r) => k.once('exit', r))));
    }
    const torn = { count: 0 };
    const lines = logLines(store.root, torn);
    assert.ok(fs.existsSync(path.join(store.root, 'events', 'events.log.1')), 'rotated');
    assert.ok(lines.length > 100);
    assert.ok(torn.count <= 24, `at most one fragment per killed writer (${torn.count})`);
    // each writer's events as read are a run without a gap: a fragment is only ever its writer's last event, and
    // the line glued after it is read whole (the rotation drops the oldest, so a run need not start at 0)
    const byWriter = new Map<string, number[]>();
    for (const e of lines.filter((x) => x.Actor.ID.startsWith('w'))) byWriter.set(e.Actor.ID, [...(byWriter.get(e.Actor.ID) ?? []), Number(e.Actor.Attributes.n)]);
    assert.equal(byWriter.size > 0, true);
    for (const [id, ns] of byWriter) assert.ok(ns.every((n, i) => i === 0 || n === ns[i - 1]! + 1), `${id}: ${ns.length} events without a gap`);
    // across the rotated file: a `since` at the rotated file's first event reads .1, then the current file, in
    // file order (writers take their time before they write, so lines across files are not strictly in time order)
    const starts = (f: string): string[] =>
      fs.readFileSync(path.join(store.root, 'events', f), 'utf8').split('\n').map((l) => parseEventLine(l)).filter((e) => e?.event.Action === 'start').map((e) => String(e!.timeNano));
    const [rotated, current] = [starts('events.log.1'), starts('events.log')];
    assert.ok(rotated.length > 0 && current.length > 0);
    const since = BigInt(rotated[0]!) / 1_000_000_000n;
    const r = await tsdock(['events', '--since', String(since), '--until', 'now', '--format', '{{.TimeNano}}', '--filter', 'event=start'], { root: store.root, timeoutMs: 30_000 });
    assert.equal(r.code, 0, r.stderr);
    const expected = [...rotated, ...current].filter((t) => BigInt(t) >= since * 1_000_000_000n);
    assert.deepEqual(r.stdout.trim().split('\n'), expected, 'both files read, in order, every digit');
  });
});
