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
    const xdgRun = env.XDG_RUNTIME_DIR || path.join(os.tmpdir(), `tsdock-run-${process.getuid?.() ?? 'user'}`);
    runRoot = path.join(xdgRun, 'tsdock');
  }
  if (overrides.root) {
    root = path.resolve(overrides.root);
    // a --root without --runroot keeps runtime state beside it, so tests stay self-contained
    if (!overrides.runRoot) runRoot = path.join(root, 'run');
  }
  if (overrides.runRoot) runRoot = path.resolve(overrides.runRoot);
  return { root, runRoot, rootful };
}
