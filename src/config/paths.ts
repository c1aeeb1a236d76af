import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface StorePaths {
  root: string;
  runRoot: string;
  rootful: boolean;
}

/** Docker/podman conventions: /var/lib + /run for root, XDG dirs for everyone else; flags override. */
export function resolvePaths(env: NodeJS.ProcessEnv, overrides: { root?: string; runRoot?: string } = {}): StorePaths {
  // inside tsdock's own rootless user namespace we are uid 0 but still rootless (see cli/userns.ts)
  const rootful = process.getuid?.() === 0 && !env.TSDOCK_USERNS;
  const home = env.HOME || os.homedir();
  let root: string;
  let runRoot: string;
  if (rootful) {
    root = '/var/lib/tsdock';
    runRoot = '/run/tsdock';
  } else {
    root = path.join(env.XDG_DATA_HOME || path.join(home, '.local', 'share'), 'tsdock');
    // without XDG_RUNTIME_DIR: a per-user dir in the temp dir, the one the rootless user namespace holder's pid file uses too
    // (cli/userns-holder.ts); ensureRuntimeDir refuses it when another user created it first
    runRoot = env.XDG_RUNTIME_DIR ? path.join(env.XDG_RUNTIME_DIR, 'tsdock') : tmpRuntimeDir(hostUid(env));
  }
  if (overrides.root) {
    root = path.resolve(overrides.root);
    // a --root without --runroot keeps runtime state beside it, so tests stay self-contained
    if (!overrides.runRoot) runRoot = path.join(root, 'run');
  }
  if (overrides.runRoot) runRoot = path.resolve(overrides.runRoot);
  return { root, runRoot, rootful };
}

/** The fallback runtime dir when there is no XDG_RUNTIME_DIR: `<tmpdir>/tsdock-<uid>`. */
export function tmpRuntimeDir(uid: number): string {
  return path.join(os.tmpdir(), `tsdock-${uid}`);
}

/** Our uid on the host: inside tsdock's rootless user namespace we are 0 there, the user outside (uid_map). */
export function hostUid(env: NodeJS.ProcessEnv): number {
  const uid = process.getuid?.() ?? 0;
  if (!env.TSDOCK_USERNS) return uid;
  try {
    for (const line of fs.readFileSync('/proc/self/uid_map', 'utf8').split('\n')) {
      const [inside, outside] = line.trim().split(/\s+/).map(Number);
      if (inside === uid && outside !== undefined && Number.isInteger(outside)) return outside;
    }
  } catch {
    // no /proc: keep what we have
  }
  return uid;
}
