import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { getHarness, isRoot } from './shared-harness.js';
import { bin, tempRoot, tsdock } from './helpers.js';
import { interact } from './pty.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** bin/tsdock with the given fds as its stdin/stdout/stderr (host files, as a shell redirection gives them) */
function tsdockFds(args: string[], stdio: [number | 'ignore', number, number], timeoutMs = 60_000): Promise<{ code: number; ms: number }> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio, env: { ...process.env, NO_COLOR: '1' } });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? 128 + (signal ? os.constants.signals[signal] : 0), ms: Date.now() - t0 });
    });
  });
}

/** `ls -l /proc/self/fd` lines → fd → link target */
function fdTargets(ls: string): Map<number, string> {
  const out = new Map<number, string>();
  for (const m of ls.matchAll(/ (\d+) -> (.*)$/gm)) out.set(Number(m[1]), m[2]!);
  return out;
}

/** only 0, 1, 2 (and the one ls opened to list the directory), each a pipe or /dev/null: no host file, no tty */
function assertRelayedFds(ls: string, what: string, allowed = /^(pipe:\[\d+\]|\/dev\/null)$/): void {
  const fds = fdTargets(ls);
  assert.deepEqual([0, 1, 2].map((fd) => fds.has(fd)), [true, true, true], `${what}: ${ls}`);
  for (const fd of [0, 1, 2]) assert.match(fds.get(fd)!, allowed, `${what}: fd ${fd} is ${fds.get(fd)}`);
  assert.ok([...fds.keys()].filter((fd) => fd > 2).length <= 1, `${what}: extra fds: ${ls}`);
}

/** a host process's fds as `ls -l` lines (` N -> target`), for assertRelayedFds */
function hostFdLinks(pid: number): string {
  return fs.readdirSync(`/proc/${pid}/fd`).map((fd) => ` ${fd} -> ${fs.readlinkSync(`/proc/${pid}/fd/${fd}`)}`).join('\n');
}

/** the host pid of the process whose argv is exactly `argv` */
function hostPidOf(argv: string[]): number | undefined {
  const want = `${argv.join('\0')}\0`;
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (fs.readFileSync(`/proc/${name}/cmdline`, 'utf8') === want) return Number(name);
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}

describe('no host descriptor enters a container: stdio relayed by tsdock', { skip: !isRoot && 'needs root' }, () => {
  let root: string;
  let img: string;
  let dir: string;
  const t = (args: string[], opts: { input?: string } = {}) => tsdock(args, { root, ...opts });
  const file = (name: string, content = '') => {
    const p = path.join(dir, name);
    fs.writeFileSync(p, content);
    return p;
  };

  before(async () => {
    img = (await getHarness()).fixtures.busyboxV2s2.ref;
    root = tempRoot('stdio-relay').root;
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdock-relay-files-'));
    assert.equal((await t(['pull', '-q', img])).code, 0);
    const r = await t(['run', '-d', '--name', 'relay-target', img, 'sleep', '1000']);
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => {
    await t(['rm', '-f', 'relay-target']);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  // stdin, stdout and stderr are host files: the container sees pipes (stdin /dev/null without -i)
  for (const verb of ['run', 'exec'] as const) {
    test(`${verb}: with host files as stdio the container's fds are only pipes`, async () => {
      const prefix = verb === 'run' ? ['run', '--rm'] : ['exec'];
      const target = verb === 'run' ? img : 'relay-target';
      for (const interactive of [true, false]) {
        const inFd = fs.openSync(file('in', 'input\n'), 'r');
        const outFd = fs.openSync(path.join(dir, 'out'), 'w');
        const errFd = fs.openSync(path.join(dir, 'err'), 'w');
        try {
          const r = await tsdockFds(['--root', root, ...prefix, ...(interactive ? ['-i'] : []), target, 'ls', '-l', '/proc/self/fd'], [inFd, outFd, errFd]);
          const out = fs.readFileSync(path.join(dir, 'out'), 'utf8');
          assert.equal(r.code, 0, `ls failed: ${fs.readFileSync(path.join(dir, 'err'), 'utf8')}`);
          assertRelayedFds(out, `${verb}${interactive ? ' -i' : ''}`);
          assert.match(fdTargets(out).get(1)!, /^pipe:/);
          if (interactive) assert.match(fdTargets(out).get(0)!, /^pipe:/);
        } finally {
          for (const fd of [inFd, outFd, errFd]) fs.closeSync(fd);
        }
      }
    });
  }

  test("a detached container's init and an exec -d process hold only pipes and /dev/null (read from the host)", async () => {
    const pid = Number((await t(['inspect', '--format', '{{.State.Pid}}', 'relay-target'])).stdout.trim());
    assert.ok(pid > 1);
    assertRelayedFds(hostFdLinks(pid), 'detached init');
    // the exec'd process itself, found on the host by its unique argument (a shell listing its own fds would
    // also show the pipe of its command substitution, which it holds both ends of for a moment)
    const secs = String(200_000 + Math.floor(Math.random() * 100_000));
    const r = await t(['exec', '-d', 'relay-target', 'sleep', secs]);
    assert.equal(r.code, 0, r.stderr);
    let execPid: number | undefined;
    for (let i = 0; i < 50 && execPid === undefined; i++, await sleep(100)) execPid = hostPidOf(['sleep', secs]);
    assert.ok(execPid, `exec -d sleep ${secs}: no such process on the host`);
    const execLinks = hostFdLinks(execPid!);
    process.kill(execPid, 'SIGKILL');
    assertRelayedFds(execLinks, 'exec -d');
    // start -a (-i): the monitor's pipes, output through the log, stdin through the attach socket (which, as
    // docker's without StdinOnce, stays open after our EOF: head ends the container)
    for (const i of [[], ['-i']]) {
      assert.equal((await t(['create', ...i, '--name', 'relay-sa', img, 'sh', '-c', 'ls -l /proc/self/fd; head -n 1'])).code, 0);
      const s = await t(['start', '-a', ...i, 'relay-sa'], { input: 'typed\n' });
      await t(['rm', '-f', 'relay-sa']);
      assert.equal(s.code, 0, s.stderr);
      assertRelayedFds(s.stdout, `start -a ${i.join('')}`);
      if (i.length) assert.match(s.stdout, /typed\n$/);
    }
  });

  test('without -t on a terminal, the container does not get the terminal (run -i, exec -i)', async () => {
    for (const args of [['run', '--rm', '-i', img], ['exec', '-i', 'relay-target']]) {
      const r = await interact(['--root', root, ...args, 'sh', '-c', 'ls -l /proc/self/fd; echo END-$((1+1))'], [{ expect: /END-2/ }]);
      assert.equal(r.code, 0, r.output);
      assert.doesNotMatch(r.output, /\/dev\/pts|\/dev\/tty|\/dev\/console/, `${args[0]}: ${r.output}`);
      assertRelayedFds(r.output.replace(/\r/g, ''), args[0]!);
    }
  });

  test('attack: reopening /proc/self/fd/1 with O_TRUNC cannot truncate the caller\'s output file', async () => {
    for (const prefix of [['run', '--rm', img], ['exec', 'relay-target']]) {
      const out = path.join(dir, 'victim');
      const outFd = fs.openSync(out, 'w');
      const errFd = fs.openSync(path.join(dir, 'err'), 'w');
      try {
        const r = await tsdockFds(['--root', root, ...prefix, 'sh', '-c', 'echo safe; : > /proc/self/fd/1; : > /proc/self/fd/2; echo after'], ['ignore', outFd, errFd]);
        assert.equal(r.code, 0, fs.readFileSync(path.join(dir, 'err'), 'utf8'));
      } finally {
        fs.closeSync(outFd);
        fs.closeSync(errFd);
      }
      assert.equal(fs.readFileSync(out, 'utf8'), 'safe\nafter\n', `${prefix[0]}: the host file was reopened`);
    }
  });

  test('attack: a process left behind cannot reopen the caller\'s stdin file and read what was not sent', async () => {
    // the caller has read the first line itself; only the rest is the container's input
    const src = file('stdin-secret', 'SECRET-NOT-SENT\nsent\n');
    for (const [verb, prefix] of [['run', ['run', '--rm', '-i', img]], ['exec', ['exec', '-i', 'relay-target']]] as const) {
      const stolen = path.join(dir, `stolen-${verb}`);
      const inFd = fs.openSync(src, 'r');
      fs.readSync(inFd, Buffer.alloc(16), 0, 16, null);
      const outFd = fs.openSync(stolen, 'w');
      const errFd = fs.openSync(path.join(dir, 'err'), 'w');
      try {
        // at once, through the path; and (exec) from a background process after tsdock has returned
        const script = 'cat /proc/self/fd/0; (sleep 1; cat /proc/self/fd/0 > /tmp/stolen-later) </proc/self/fd/0 >/dev/null 2>&1 &';
        const r = await tsdockFds(['--root', root, ...prefix, 'sh', '-c', script], [inFd, outFd, errFd]);
        assert.equal(r.code, 0, fs.readFileSync(path.join(dir, 'err'), 'utf8'));
      } finally {
        for (const fd of [inFd, outFd, errFd]) fs.closeSync(fd);
      }
      assert.doesNotMatch(fs.readFileSync(stolen, 'utf8'), /SECRET/, `${verb}: read the host file through /proc/self/fd/0`);
      assert.equal(fs.readFileSync(stolen, 'utf8'), 'sent\n');
    }
    await sleep(1500);
    const later = await t(['exec', 'relay-target', 'sh', '-c', 'cat /tmp/stolen-later 2>/dev/null; true']);
    assert.doesNotMatch(later.stdout, /SECRET/, 'a background process read the host file after exec returned');
  });

  test('stdin EOF, exit codes, stderr apart, stdout+stderr order on one file, large output in order', async () => {
    let r = await t(['run', '--rm', '-i', img, 'sh', '-c', 'cat; echo done; exit 7'], { input: 'line1\nline2\n' });
    assert.equal(r.code, 7);
    assert.equal(r.stdout, 'line1\nline2\ndone\n');
    r = await t(['exec', '-i', 'relay-target', 'wc', '-l'], { input: 'a\nb\nc\n' });
    assert.equal(r.code, 0);
    assert.equal(r.stdout.trim(), '3');
    // --init: the reaper between the executor and the command holds no end of the pipes either
    r = await t(['run', '--rm', '--init', img, 'sh', '-c', 'echo out; echo err >&2; kill -TERM $$']);
    assert.equal(r.code, 143);
    assert.equal(r.stdout, 'out\n');
    assert.equal(r.stderr, 'err\n');
    const both = path.join(dir, 'both');
    const fd = fs.openSync(both, 'w');
    try {
      const s = await tsdockFds(['--root', root, 'run', '--rm', img, 'sh', '-c', 'for i in 1 2 3 4 5 6; do echo o$i; echo e$i >&2; done'], ['ignore', fd, fd]);
      assert.equal(s.code, 0);
    } finally {
      fs.closeSync(fd);
    }
    assert.equal(fs.readFileSync(both, 'utf8'), 'o1\ne1\no2\ne2\no3\ne3\no4\ne4\no5\ne5\no6\ne6\n', '2>&1 keeps the order');
    r = await t(['run', '--rm', img, 'seq', '1', '300000']);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, `${Array.from({ length: 300000 }, (_, i) => i + 1).join('\n')}\n`);
  });

  test('run -a: only the attached streams (docker: unattached output is not shown, stdin only with -a stdin)', async () => {
    const script = 'echo out; echo err >&2; cat';
    let r = await t(['run', '--rm', '-i', '-a', 'stdout', img, 'sh', '-c', script], { input: 'in\n' });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual([r.stdout, r.stderr], ['out\n', '']);
    r = await t(['run', '--rm', '-i', '-a', 'STDERR', '-a', 'stdin', img, 'sh', '-c', script], { input: 'in\n' });
    assert.deepEqual([r.stdout, r.stderr], ['', 'err\n']);
    r = await t(['run', '--rm', '-i', '-a', 'stdin', '-a', 'stdout', img, 'sh', '-c', script], { input: 'in\n' });
    assert.deepEqual([r.stdout, r.stderr], ['out\nin\n', '']);
    r = await t(['run', '--rm', '-a', 'stdout', '-d', img, 'true']);
    assert.equal(r.code, 125);
    assert.match(r.stderr, /Conflicting options: -a and -d/);
    r = await t(['run', '--rm', '-a', 'stdnothing', img, 'true']);
    assert.equal(r.code, 125);
    assert.match(r.stderr, /valid streams are STDIN, STDOUT and STDERR/);
  });

  test('a closed stdout ends the container (| head -1); a process left holding the pipes does not hang exec', async () => {
    const cmd = `${process.execPath} ${bin} --root ${root} run --rm ${img} yes | head -1`;
    const t0 = Date.now();
    const r = await new Promise<{ code: number; out: string }>((resolve) => {
      const c = spawn('sh', ['-c', cmd], { stdio: ['ignore', 'pipe', 'ignore'] });
      let out = '';
      c.stdout.on('data', (d) => (out += d));
      const timer = setTimeout(() => c.kill('SIGKILL'), 20_000);
      c.on('close', (code) => (clearTimeout(timer), resolve({ code: code ?? -1, out })));
    });
    assert.equal(r.out, 'y\n');
    assert.ok(Date.now() - t0 < 10_000, `| head -1 took ${Date.now() - t0} ms`);
    // a reader that stalls longer than the drain bound after the container ended (a pager) still gets everything
    const slow = await new Promise<string>((resolve) => {
      const c = spawn('sh', ['-c', `${process.execPath} ${bin} --root ${root} run --rm ${img} seq 1 20000 | (sleep 4; cat) | wc -l`], { stdio: ['ignore', 'pipe', 'ignore'] });
      let out = '';
      c.stdout.on('data', (d) => (out += d));
      c.on('close', () => resolve(out.trim()));
    });
    assert.equal(slow, '20000');
    // the exec'd shell leaves a sleep holding stdout and stderr: exec returns after the drain bound (2 s)
    const t1 = Date.now();
    const e = await t(['exec', 'relay-target', 'sh', '-c', 'sleep 30 & echo started']);
    assert.equal(e.code, 0);
    assert.equal(e.stdout, 'started\n');
    assert.ok(Date.now() - t1 < 10_000, `exec with a leftover process took ${Date.now() - t1} ms`);
    await t(['exec', 'relay-target', 'pkill', '-f', 'sleep 30']);
  });
});
