import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseGoBool, ramInBytes } from '../../../src/ocispec/units.js';
import { bytesFlag } from '../../../src/cli/opts/values.js';

const memoryFlag = (v: string, flag: string) => bytesFlag(v, `--${flag}`);
import { parseLogSize } from '../../../src/api/start.js';

const MiB = 1024 * 1024;

test('ramInBytes is go-units RAMInBytes', () => {
  const ok: Array<[string, number]> = [
    ['100', 100], ['100b', 100], ['100B', 100], ['512k', 512 * 1024], ['512kb', 512 * 1024], ['512KiB', 512 * 1024],
    ['64m', 64 * MiB], ['64 MiB', 64 * MiB], ['1.5g', 1.5 * 1024 * MiB], ['2t', 2 * 1024 ** 4], ['1p', 1024 ** 5], [' 8m ', 8 * MiB],
  ];
  for (const [v, want] of ok) assert.equal(ramInBytes(v), want, v);
  for (const v of ['', 'lots', '-1', '-5m', '1x', '64mm', '100bb', '100ib', '1..5m', 'm', '64  m']) assert.equal(ramInBytes(v), undefined, v);
});

test('every size flag reads sizes the same way (they differed on t/p, spaces, "bb", negatives)', () => {
  // --memory accepted "100bb" and "-5m"; --log-opt max-size refused "1t", "64MiB" and "64 m"
  for (const v of ['64MiB', '1t', '64 m', '100b', '1.5g']) {
    assert.equal(memoryFlag(v, 'memory'), ramInBytes(v), v);
    assert.equal(parseLogSize(v), ramInBytes(v), v);
  }
  for (const v of ['100bb', '-5m']) {
    assert.throws(() => memoryFlag(v, 'memory'), /invalid size/, v);
    assert.throws(() => parseLogSize(v), /invalid log-opt max-size/, v);
  }
});

test('parseGoBool is strconv.ParseBool', () => {
  for (const v of ['1', 't', 'T', 'TRUE', 'true', 'True']) assert.equal(parseGoBool(v), true);
  for (const v of ['0', 'f', 'F', 'FALSE', 'false', 'False']) assert.equal(parseGoBool(v), false);
  for (const v of ['', 'yes', 'tRUE', 'on']) assert.equal(parseGoBool(v), undefined);
});
