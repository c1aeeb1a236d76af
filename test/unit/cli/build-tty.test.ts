import { test } from 'node:test';
import assert from 'node:assert/strict';
import { displayLine, elapsed } from '../../../src/cli/render/build-tty.js';

test('a RUN output line as the live view shows it: the last \\r redraw, no escape sequence or control byte', () => {
  assert.equal(displayLine('plain text'), 'plain text');
  assert.equal(displayLine(' 10%\r 50%\r100%'), '100%');
  assert.equal(displayLine('done\r'), 'done');
  assert.equal(displayLine('\x1b[1;32mgreen\x1b[0m and \x1b]0;title\x07rest'), 'green and rest');
  assert.equal(displayLine('a\tb\x07\x08'), 'a  b');
});

test('step times as BuildKit prints them', () => {
  assert.equal(elapsed(0), '0.0s');
  assert.equal(elapsed(1234), '1.2s');
  assert.equal(elapsed(61_000), '61.0s');
});
