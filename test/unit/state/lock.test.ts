import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { TsdockError } from '../../../src/errors.js';
import { acquireLock, tryLock, tryWithLock, withLock } from '../../../src/state/lock.js';

const lockModule = new URL('../../../src/state/lock.js', import.meta.url).href;

/** A child process that takes the lock, says so, holds it for `holdMs`, then exits. */
function holdInChild(lockPath: string, mode: 'shared' | 'exclusive', holdMs: number): Promise<{ exited: Promise<number | null> }> {
  const script = `
    import { withLock } from ${JSON.stringify(lockModule)};
    await withLock(${JSON.stringify(lockPath)}, ${JSON.stringify(mode)}, async () => {
      process.stdout.write('locked\\n');
      await new Promise((r) => setTimeout(r, ${holdMs}));
    });
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  return new Promise((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      if (d.toString().includes('locked')) resolve({ exited });
    });
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`child exited (${code}) before locking`)));
  });
}

describe('state/lock', () => {
  let dir: string;
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdock-lock-'))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('creates the lock file and its directory', async () => {
    const lockPath = path.join(dir, 'deep', 'locks', 'images.lock');
    assert.equal(await withLock(lockPath, 'exclusive', async () => 42), 42);
    assert.ok(fs.existsSync(lockPath));
  });

  it('excludes another process while held exclusively', async () => {
    const lockPath = path.join(dir, 'x.lock');
    const { exited } = await holdInChild(lockPath, 'exclusive', 400);
    assert.equal(await tryLock(lockPath, 'shared'), undefined);
    assert.deepEqual(await tryWithLock(lockPath, 'exclusive', async () => 1), { locked: false });
    const started = Date.now();
    await withLock(lockPath, 'exclusive', async () => {
      // the child must be gone (or at least have released) by the time we get it
      assert.ok(Date.now() - started >= 150, 'acquired while the child held it');
    });
    assert.equal(await exited, 0);
  });

  it('lets shared holders share, and makes an exclusive waiter wait for them', async () => {
    const lockPath = path.join(dir, 's.lock');
    const { exited } = await holdInChild(lockPath, 'shared', 300);
    const mine = await tryLock(lockPath, 'shared');
    assert.ok(mine, 'a second shared holder must get in');
    mine.release();
    await assert.rejects(acquireLock(lockPath, 'exclusive', { timeoutMs: 60 }), (err: unknown) => err instanceof TsdockError && /timed out after 60ms waiting for the exclusive lock on /.test(err.message));
    const lock = await acquireLock(lockPath, 'exclusive', { timeoutMs: 5000 });
    lock.release();
    assert.equal(await exited, 0);
  });

  it('excludes within one process too, and releases when fn throws', async () => {
    const lockPath = path.join(dir, 'p.lock');
    const order: string[] = [];
    let firstHolds!: () => void;
    const held = new Promise<void>((r) => (firstHolds = r));
    const first = withLock(lockPath, 'exclusive', async () => {
      order.push('first in');
      firstHolds();
      await new Promise((r) => setTimeout(r, 50));
      order.push('first out');
      throw new Error('boom');
    });
    // the second asks only once the first holds it (a fixed delay raced the first's open on a slow machine)
    await held;
    const second = withLock(lockPath, 'exclusive', async () => {
      order.push('second');
    });
    await assert.rejects(first, /boom/);
    await second;
    assert.deepEqual(order, ['first in', 'first out', 'second']);
    const again = await tryLock(lockPath, 'exclusive');
    assert.ok(again);
    again.release();
    again.release(); // idempotent
  });

  it('gives up when the signal aborts', async () => {
    const lockPath = path.join(dir, 'a.lock');
    const held = await acquireLock(lockPath, 'exclusive');
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error('user pressed ^C')), 30);
    await assert.rejects(withLock(lockPath, 'shared', async () => 'never', { signal: ac.signal }), /user pressed \^C/);
    held.release();
  });
});
