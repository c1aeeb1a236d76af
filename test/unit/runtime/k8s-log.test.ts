import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { K8sFileLog } from '../../../src/runtime/k8s-log.js';

const RECORD = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z stdout [FP] .*$/;

describe('K8sFileLog (the log of a foreground run -t)', () => {
  it('a chunk: one F record per line, a P record for a trailing part, appended to what is there', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdock-k8slog-'));
    const file = path.join(dir, 'ctr.log');
    fs.writeFileSync(file, 'old\n');
    const log = new K8sFileLog(file, 0);
    log.write('stdout', Buffer.from('a\nb\nc'));
    log.close();
    const lines = fs.readFileSync(file, 'utf8').split('\n');
    assert.equal(lines[0], 'old');
    assert.deepEqual(lines.slice(1, 4).map((l) => l.replace(/^\S+ /, '')), ['stdout F a', 'stdout F b', 'stdout P c']);
    assert.ok(lines.slice(1, 4).every((l) => RECORD.test(l)));
    assert.equal(lines[4], '');
    fs.rmSync(dir, { recursive: true });
  });

  it('past maxSize the log moves to .1; a record is never split and the size stays within the bound', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdock-k8slog-'));
    const file = path.join(dir, 'ctr.log');
    const log = new K8sFileLog(file, 200);
    log.write('stdout', Buffer.from(Array.from({ length: 20 }, (_, i) => `line-${i}\n`).join('')));
    log.close();
    const now = fs.readFileSync(file, 'utf8');
    const old = fs.readFileSync(`${file}.1`, 'utf8');
    assert.ok(now.length <= 200 && old.length <= 200, `${now.length} ${old.length}`);
    for (const l of [...old.split('\n'), ...now.split('\n')].filter(Boolean)) assert.match(l, RECORD);
    assert.match(now, /stdout F line-19\n$/);
    fs.rmSync(dir, { recursive: true });
  });
});
