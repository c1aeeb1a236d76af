// CVE-2019-5736 against tsdock: a container whose /bin/evil is `#!/proc/self/exe` makes the kernel re-run the
// joining executor inside the container; an attacker in the container opens that process's /proc/<pid>/exe and,
// once the executor has exited, reopens the fd for writing through /proc/self/fd/3. The executor runs from a
// sealed memfd copy (native/sealed-exe.h), so what the attacker holds is that copy, every write fails, and the
// host's binary is untouched. The tests run copied package trees (bin, dist/bundle, native/build): a failing run
// destroys a copy, never the build.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { getHarness, isRoot } from './shared-harness.js';
import { repoDir, tempRoot, type RunResult } from './helpers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sha = (f: string) => crypto.createHash('sha256').update(fs.readFileSync(f)).digest('hex');

/** A copy of the package tree tsdock runs from (its own native/build/tsdock-exec); node_modules is linked. */
function copyTree(dir: string): { bin: string; exe: string } {
  fs.mkdirSync(path.join(dir, 'bin'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'dist', 'bundle'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'native', 'build'), { recursive: true });
  fs.copyFileSync(path.join(repoDir, 'package.json'), path.join(dir, 'package.json'));
  for (const f of fs.readdirSync(path.join(repoDir, 'bin'))) fs.copyFileSync(path.join(repoDir, 'bin', f), path.join(dir, 'bin', f));
  for (const f of fs.readdirSync(path.join(repoDir, 'dist', 'bundle')).filter((n) => n.endsWith('.cjs')))
    fs.copyFileSync(path.join(repoDir, 'dist', 'bundle', f), path.join(dir, 'dist', 'bundle', f));
  fs.copyFileSync(path.join(repoDir, 'native', 'build', 'tsdock-exec'), path.join(dir, 'native', 'build', 'tsdock-exec'));
  fs.chmodSync(path.join(dir, 'native', 'build', 'tsdock-exec'), 0o755);
  fs.symlinkSync(path.join(repoDir, 'node_modules'), path.join(dir, 'node_modules'));
  return { bin: path.join(dir, 'bin', 'tsdock'), exe: path.join(dir, 'native', 'build', 'tsdock-exec') };
}

function run(binPath: string, args: string[], timeoutMs = 60_000): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [binPath, ...args], { env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 1, stdout, stderr });
    });
  });
}

// The attacker (busybox sh, builtins only in the hot loop: no fork between two tries). It watches the next pids
// of its pid namespace; the first one it can open whose exe is not busybox is the executor, re-run by the kernel
// for /bin/evil (non-dumpable, so not openable, until that exec). It then keeps reopening that file for writing (O_TRUNC) through /proc/self/fd/3 for 15 s (ETXTBSY
// while the executor runs), or until the error is EPERM (the seals: permanent).
const ATTACK = `#!/bin/sh
out=/out/result
echo waiting > /out/state
while :; do
  read last < /proc/sys/kernel/ns_last_pid
  p=$last; q=$((last + 1))
  if command exec 3< /proc/$p/exe || command exec 3< /proc/$q/exe; then
    if [ /proc/self/fd/3 -ef /proc/$$/exe ]; then exec 3<&-; continue; fi
    break
  fi
done 2>/dev/null
echo "holding $(readlink /proc/self/fd/3)" > /out/state
i=0
while [ $i -lt 300 ]; do
  if { printf 'PWNED\\n' >&4; } 2>/out/err 4> /proc/self/fd/3; then echo wrote > $out; exit 0; fi
  case "$(cat /out/err)" in *permitted*) break ;; esac  # sealed: no use trying on
  i=$((i + 1))
  sleep 0.05
done
echo "could not write: $(cat /out/err)" > $out
`;

describe('the executor is sealed from containers (CVE-2019-5736)', { skip: !isRoot && 'needs root' }, () => {
  let root: string;
  let img: string;
  let work: string;
  let a: { bin: string; exe: string };
  let b: { bin: string; exe: string };
  let c: { bin: string; exe: string };

  before(async () => {
    img = (await getHarness()).fixtures.busyboxV2s2.ref;
    root = tempRoot('exec-sealed').root;
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'tsdock-sealed-'));
    // the container's monitor holds its own binary busy (ETXTBSY): the target is a second install's binary,
    // as after an upgrade that replaced the file the running monitors still execute
    a = copyTree(path.join(work, 'a'));
    b = copyTree(path.join(work, 'b'));
    c = copyTree(path.join(work, 'c'));
    assert.equal((await run(a.bin, ['--root', root, 'pull', '-q', img])).code, 0);
    // the image: /bin/evil is `#!/proc/self/exe`, /attack.sh the attacker
    const mk = await run(a.bin, ['--root', root, 'run', '--name', 'sealed-mk', img, 'sh', '-c',
      `printf '#!/proc/self/exe\\n' > /bin/evil && chmod 755 /bin/evil && cat > /attack.sh <<'EOF'\n${ATTACK}EOF\nchmod 755 /attack.sh`]);
    assert.equal(mk.code, 0, mk.stderr);
    const ci = await run(a.bin, ['--root', root, 'commit', 'sealed-mk', 'sealed-evil:1']);
    assert.equal(ci.code, 0, ci.stderr);
    await run(a.bin, ['--root', root, 'rm', '-f', 'sealed-mk']);
  });
  after(async () => {
    const ids = (await run(a.bin, ['--root', root, 'ps', '-aq', '--no-trunc'])).stdout.trim().split('\n').filter(Boolean);
    if (ids.length) await run(a.bin, ['--root', root, 'rm', '-f', ...ids]);
    fs.rmSync(work, { recursive: true, force: true });
  });

  test('exec of a #!/proc/self/exe command: the attacker holds the executor but cannot write the host binary', async () => {
    const out = path.join(work, 'out-exec');
    fs.mkdirSync(out);
    const before = sha(b.exe);
    const r = await run(a.bin, ['--root', root, 'run', '-d', '--name', 'sealed-victim', '-v', `${out}:/out`, 'sealed-evil:1', '/attack.sh']);
    assert.equal(r.code, 0, r.stderr);
    for (let i = 0; i < 50 && !fs.existsSync(path.join(out, 'state')); i++) await sleep(100);
    // the re-run executor reads a plan from its fd 3: given one (--preserve-fds 1, a socket this test holds) it
    // waits there until the test closes its end, so the attacker's try does not hang on a race with a short life
    const ex = spawn(b.bin, ['--root', root, 'exec', '--preserve-fds', '1', 'sealed-victim', '/bin/evil'], { env: { ...process.env, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
    let exStderr = '';
    ex.stderr!.on('data', (d) => (exStderr += d));
    const exited = new Promise<number>((resolve) => ex.on('close', (code) => resolve(code ?? 1)));
    let held = false;
    for (let i = 0; i < 200 && !held && ex.exitCode === null; i++) {
      await sleep(50);
      held = fs.readFileSync(path.join(out, 'state'), 'utf8').startsWith('holding');
    }
    (ex.stdio[3] as import('node:net').Socket).destroy();
    const code = await exited;
    assert.ok(held, `the attacker got hold of the re-run executor (else this test proves nothing); exec: ${code} ${exStderr}`);
    assert.notEqual(code, 0, 'the executor re-run as /bin/evil has no plan and fails');
    let result = '';
    for (let i = 0; i < 200 && !result; i++) {
      await sleep(100);
      if (fs.existsSync(path.join(out, 'result'))) result = fs.readFileSync(path.join(out, 'result'), 'utf8');
    }
    assert.equal(sha(b.exe), before, `the host executor is unchanged (attacker: ${result.trim()})`);
    assert.match(result, /^could not write: .*(not permitted|EPERM)/i, result);
    const state = fs.readFileSync(path.join(out, 'state'), 'utf8');
    assert.match(state, /memfd:tsdock-exec/, 'what the container can open is the memfd copy');
    await run(a.bin, ['--root', root, 'rm', '-f', 'sealed-victim']);
  });

  test('run --init with ptrace rights: pid 1 (the reaper, the executor) is the sealed copy, not the host binary', async () => {
    const out = path.join(work, 'out-run');
    fs.mkdirSync(out);
    const before = sha(c.exe);
    const script = `readlink /proc/1/exe > /out/exe; if { printf 'PWNED\\n' >&4; } 2>/out/err 4> /proc/1/exe; then echo wrote; else echo "could not write: $(cat /out/err)"; fi > /out/result`;
    const r = await run(c.bin, ['--root', root, 'run', '--rm', '--init', '--cap-add', 'SYS_PTRACE', '-v', `${out}:/out`, 'sealed-evil:1', 'sh', '-c', script]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(fs.readFileSync(path.join(out, 'exe'), 'utf8'), /^\/memfd:tsdock-exec/);
    // while the reaper runs its image is busy (ETXTBSY) either way; the copy's seals hold once it is gone
    assert.match(fs.readFileSync(path.join(out, 'result'), 'utf8'), /^could not write: .*(not permitted|busy)/i);
    assert.equal(sha(c.exe), before);
    // and an entrypoint that re-runs the executor as the container's init fails cleanly, the binary unchanged
    const e = await run(c.bin, ['--root', root, 'run', '--rm', '--entrypoint', '/bin/evil', 'sealed-evil:1']);
    assert.notEqual(e.code, 0);
    assert.equal(sha(c.exe), before);
  });
});
