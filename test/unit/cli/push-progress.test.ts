import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { CliContext } from '../../../src/cli/context.js';
import { layerProgress } from '../../../src/cli/render/progress.js';
import type { ProgressEvent } from '../../../src/context.js';

function sink(isTTY: boolean): Writable & { isTTY?: boolean; text: string } {
  const w = new Writable({
    write(chunk: Buffer, _enc, cb) {
      w.text += String(chunk);
      cb();
    },
  }) as Writable & { isTTY?: boolean; text: string };
  w.text = '';
  w.isTTY = isTTY;
  return w;
}

const events: ProgressEvent[] = [
  { kind: 'status', message: 'The push refers to repository [reg/app]' },
  { kind: 'push', id: 'aaaaaaaaaaaa', phase: 'preparing' },
  { kind: 'push', id: 'bbbbbbbbbbbb', phase: 'preparing' },
  { kind: 'push', id: 'cccccccccccc', phase: 'preparing' },
  { kind: 'push', id: 'aaaaaaaaaaaa', phase: 'pushing', current: 512, total: 1024 },
  { kind: 'push', id: 'aaaaaaaaaaaa', phase: 'pushed' },
  { kind: 'push', id: 'bbbbbbbbbbbb', phase: 'present' },
  { kind: 'push', id: 'cccccccccccc', phase: 'mounted', from: 'lib/base' },
];

test("push progress when piped: docker's final line per layer, nothing else", () => {
  const out = sink(false);
  const cli = new CliContext({ stdout: out, stderr: sink(false), env: {} });
  const p = layerProgress(cli);
  for (const e of events) p.onEvent(e);
  p.done();
  assert.equal(out.text, 'The push refers to repository [reg/app]\naaaaaaaaaaaa: Pushed\nbbbbbbbbbbbb: Layer already exists\ncccccccccccc: Mounted from lib/base\n');
});

test('push progress on a TTY: lines redrawn in place, with a bar while pushing', () => {
  const out = sink(true);
  const cli = new CliContext({ stdout: out, stderr: sink(true), env: { TERM: 'xterm' } });
  const p = layerProgress(cli);
  for (const e of events.slice(0, 5)) p.onEvent(e);
  p.done();
  assert.match(out.text, /aaaaaaaaaaaa: Pushing \[=+>\s+\] 512B\/1\.02kB/);
  assert.match(out.text, /\x1b\[3A/);
});
