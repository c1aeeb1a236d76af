import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, it } from 'node:test';
import { getWinsize, isTerminal, openPty, setNonBlocking, setWinsize } from '../../../src/sys/pty.js';

describe('sys/pty', () => {
  it('openPty: a connected master/slave pair; bytes flow both ways', () => {
    const { master, slave, slavePath } = openPty();
    try {
      assert.match(slavePath, /^\/dev\/pts\/\d+$/);
      assert.equal(isTerminal(master), true);
      assert.equal(isTerminal(slave), true);
      // master → slave: canonical mode hands over a whole line
      fs.writeSync(master, 'hello\n');
      const buf = Buffer.alloc(64);
      const n = fs.readSync(slave, buf, 0, buf.length, null);
      assert.equal(buf.toString('utf8', 0, n), 'hello\n');
      // slave → master: output post-processing turns \n into \r\n (and the master also sees the echo of "hello")
      fs.writeSync(slave, 'out\n');
      let got = '';
      while (!got.includes('out\r\n')) got += buf.toString('utf8', 0, fs.readSync(master, buf, 0, buf.length, null));
      assert.ok(got.endsWith('out\r\n'), JSON.stringify(got));
    } finally {
      fs.closeSync(slave);
      fs.closeSync(master);
    }
  });

  it('setWinsize/getWinsize round-trip, seen from both sides', () => {
    const { master, slave } = openPty();
    try {
      setWinsize(master, 42, 137);
      assert.deepEqual(getWinsize(slave), { rows: 42, cols: 137 });
      assert.deepEqual(getWinsize(master), { rows: 42, cols: 137 });
    } finally {
      fs.closeSync(slave);
      fs.closeSync(master);
    }
  });

  it('the master is close-on-exec and non-blocking can be toggled', () => {
    const { master, slave } = openPty();
    try {
      for (const fd of [master, slave]) {
        const flags = /^flags:\s+(\d+)$/m.exec(fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))![1]!;
        assert.ok((parseInt(flags, 8) & 0o2000000) !== 0, `fd ${fd} is close-on-exec`);
      }
      setNonBlocking(master, true);
      assert.throws(() => fs.readSync(master, Buffer.alloc(8), 0, 8, null), { code: 'EAGAIN' });
      setNonBlocking(master, false);
    } finally {
      fs.closeSync(slave);
      fs.closeSync(master);
    }
  });

  it('non-terminals: isTerminal is false, getWinsize throws ENOTTY', () => {
    const fd = fs.openSync('/dev/null', 'r');
    try {
      assert.equal(isTerminal(fd), false);
      assert.throws(() => getWinsize(fd), { code: 'ENOTTY' });
    } finally {
      fs.closeSync(fd);
    }
  });
});
