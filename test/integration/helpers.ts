import { execFileSync, spawn } from 'node:child_process';
import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before } from 'node:test';
import net from 'node:net';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { getHarness } from './shared-harness.js';

export const repoDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const bin = path.join(repoDir, 'bin', 'tsdock');

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run bin/tsdock as a user would, with its own --root. */
export function tsdock(args: string[], opts: { root?: string; env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {}): Promise<RunResult> {
  const full = opts.root ? ['--root', opts.root, ...args] : args;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...full], { env: { ...process.env, NO_COLOR: '1', ...opts.env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? 128 + (signal ? os.constants.signals[signal] : 0), stdout, stderr });
    });
    // tsdock may exit before reading its stdin: an EPIPE there is not the test's business
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
  });
}

/**
 * A fresh store root under the test tmp dir; removed by the returned cleanup, or at the latest when the
 * test process exits (node 20's top-level hooks do not mix well with describe blocks, so files avoid them).
 */
export function tempRoot(label: string): { root: string; cleanup: () => void } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `tsdock-test-${label}-`));
  const cleanup = () => fs.rmSync(root, { recursive: true, force: true });
  process.once('exit', cleanup);
  return { root, cleanup };
}

/** Walk a tree and return every path (relative) — for "nothing appeared outside" checks. */
export function listTree(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      out.push(path.relative(dir, p));
      if (e.isDirectory()) walk(p);
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return out;
}

/** Run bin/tsdock with binary stdout (tar streams) and optional stdin bytes. */
export function tsdockRaw(args: string[], root: string, input?: Buffer): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, '--root', root, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stdout: Buffer.concat(out), stderr }));
    child.stdin.on('error', () => {});
    child.stdin.end(input ?? Buffer.alloc(0));
  });
}

/** fn's result once it stops throwing, retried every 100 ms for up to `ms` (then its last error) */
export async function retry<T>(fn: () => Promise<T>, ms = 3000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > end) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** a TCP port free on 127.0.0.1 right now */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

/** tsdock's command line as an unprivileged user, with their own runtime dir (their holder) and store */
export function asUserArgv(user: string, runtime: string, root: string, args: string[], env: Record<string, string> = {}): string[] {
  const extra = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  return ['runuser', '-u', user, '--', 'env', `HOME=/home/${user}`, `XDG_RUNTIME_DIR=${runtime}`, 'NO_COLOR=1', ...extra, process.execPath, bin, '--root', root, ...args];
}

/** A local user's uid (`id -u`), or undefined when there is no such user. */
export function uidOf(user: string): number | undefined {
  try {
    return Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
  } catch {
    return undefined;
  }
}

/** Run argv (stdin closed) and collect its output. */
export function collect(argv: string[]): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}

/** A rootless test's end: its containers removed, its user namespace holder killed (when it started one). */
export async function endRootless(asUser: (args: string[]) => Promise<RunResult>, runtime: string): Promise<void> {
  const ids = (await asUser(['ps', '-aq', '--no-trunc'])).stdout.trim().split('\n').filter(Boolean);
  if (ids.length) await asUser(['rm', '-f', ...ids]);
  try {
    process.kill(Number(fs.readFileSync(path.join(runtime, 'tsdock', 'userns-holder.pid'), 'utf8').split(' ')[0]), 'SIGKILL');
  } catch {
    // no holder
  }
  try {
    // the user's network namespace holder (rootless bridge networks) goes with its last container; in case not
    const { pid } = JSON.parse(fs.readFileSync(path.join(runtime, 'tsdock', 'net', 'netns.json'), 'utf8')) as { pid: number };
    if (fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8') === 'sleep\0infinity\0') process.kill(pid, 'SIGKILL');
  } catch {
    // none
  }
}

/** GET a URL (3 s timeout) and return its body. */
export function httpGet(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { timeout: 3000 }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve(body));
    });
    req.on('timeout', () => req.destroy(new Error(`timeout: ${url}`)));
    req.on('error', reject);
  });
}

/**
 * A store of one describe()'s own (call it inside the describe): the harness's busybox pulled into a temporary
 * --root before the tests, and every container and network removed, and the root deleted, after them. `ok` runs
 * tsdock there and asserts that it succeeded.
 */
export function testStore(label: string): { readonly root: string; readonly image: string; ok(args: string[]): Promise<string> } {
  let root = '';
  let image = '';
  let cleanup = () => {};
  const ok = async (args: string[]) => {
    const r = await tsdock(args, { root });
    assert.equal(r.code, 0, `tsdock ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  before(async () => {
    image = (await getHarness()).fixtures.busyboxV2s2.ref;
    ({ root, cleanup } = tempRoot(label));
    await ok(['pull', '-q', image]);
  });
  after(async () => {
    const ids = (await tsdock(['ps', '-aq'], { root })).stdout.trim().split('\n').filter(Boolean);
    if (ids.length) await tsdock(['rm', '-f', ...ids], { root });
    await tsdock(['network', 'prune', '-f'], { root });
    cleanup();
  });
  return {
    get root() {
      return root;
    },
    get image() {
      return image;
    },
    ok,
  };
}

/**
 * A client on "another machine": a network namespace of the test's own with a veth to the host on a
 * documentation /24 (`net`, e.g. '198.51.100': the host side .1, the client .2). Its traffic never leaves this host.
 */
export function farClient(net: string, tag: string): { host: string; client: string; get(url: string): string; close(): void } {
  const [ns, hostIf] = [`tsdt-${tag}${process.pid % 10000}`, `tsdt-h${tag}${process.pid % 10000}`];
  const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'ignore' });
  const close = () => {
    try {
      ip('netns', 'del', ns);
    } finally {
      // the host end goes with its peer (the kernel removes it a moment later); only a half-made pair is left
      try {
        ip('link', 'del', hostIf);
      } catch (err) {
        if (fs.existsSync(`/sys/class/net/${hostIf}`)) throw err;
      }
    }
  };
  ip('netns', 'add', ns);
  try {
    ip('link', 'add', hostIf, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
    ip('addr', 'add', `${net}.1/24`, 'dev', hostIf);
    ip('link', 'set', hostIf, 'up');
    ip('-n', ns, 'addr', 'add', `${net}.2/24`, 'dev', 'eth0');
    ip('-n', ns, 'link', 'set', 'eth0', 'up');
  } catch (err) {
    close();
    throw err;
  }
  // node, not busybox wget (busybox's static wget crashes here inside `ip netns exec`)
  const script = `require('http').get(process.argv[1], { timeout: 3000 }, (r) => r.pipe(process.stdout)).on('error', () => process.exit(1)).on('timeout', () => process.exit(2))`;
  const get = (url: string) => execFileSync('ip', ['netns', 'exec', ns, process.execPath, '-e', script, url], { encoding: 'utf8' });
  return { host: `${net}.1`, client: `${net}.2`, get, close };
}

/** The unprivileged test user of the rootless tests (scripts/install-deps.sh makes it), its ids, and why a test skips. */
export function testUser(name = 'tsdock-test'): { name: string; uid: number; gid: number; skip: string | false } {
  const root = process.getuid?.() === 0;
  const uid = uidOf(name);
  if (uid === undefined) return { name, uid: -1, gid: -1, skip: root ? `no ${name} user (scripts/install-deps.sh creates it)` : 'needs root to switch to the unprivileged test user' };
  const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
  return { name, uid, gid, skip: root ? false : 'needs root to switch to the unprivileged test user' };
}

/** A store and a runtime dir of a test's own, owned by the unprivileged `user` (their holder runs there). */
export function rootlessDirs(label: string, user: { uid: number; gid: number }): { root: string; runtime: string } {
  const root = tempRoot(label).root;
  const runtime = tempRoot(`${label}-xdg`).root;
  fs.chownSync(runtime, user.uid, 0);
  fs.chownSync(root, user.uid, user.gid);
  return { root, runtime };
}
