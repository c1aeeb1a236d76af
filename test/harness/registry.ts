// Start CNCF distribution (`docker-registry serve config.yml`, Debian's docker-registry package) as a child of
// the test process, one config + storage dir per instance, on 127.0.0.1:<free port>.
import { mkdirSync, mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { freePort, registerTempDir, spawnManaged, unregisterTempDir, type ManagedProcess } from './proc.js';
import { waitForRegistry } from './http.js';

export interface RegistryInfo {
  /** `127.0.0.1:<port>` — use it as the registry part of references. */
  host: string;
  /** Root of the filesystem storage driver (`<storageDir>/docker/registry/v2/...`). */
  storageDir: string;
  /** `http://127.0.0.1:<port>` or `https://…` */
  url: string;
}

export type RegistryAuthConfig =
  | { htpasswd: { path: string; realm?: string } }
  | { token: { realm: string; service: string; issuer: string; rootcertbundle: string; autoredirect?: boolean } };

export interface StartRegistryOptions {
  auth?: RegistryAuthConfig;
  /** Serve HTTPS with this certificate/key; `ca` (path) is used by the readiness probe. */
  tls?: { certificate: string; key: string; ca?: string };
  /** Directory to put config/storage/log in (created). Default: a fresh temp dir removed on stop(). */
  dir?: string;
  /** Label used in temp dir names and error messages. */
  name?: string;
  /** Registry log level (default warn). */
  logLevel?: 'error' | 'warn' | 'info' | 'debug';
}

export interface RunningRegistry extends RegistryInfo {
  dir: string;
  configPath: string;
  logPath: string;
  pid: number;
  process: ManagedProcess;
  /** CA to trust when url is https. */
  caCertPath?: string;
  stop(): Promise<void>;
}

const BIN = process.env.TSDOCK_REGISTRY_BIN ?? 'docker-registry';

function registryConfig(opts: StartRegistryOptions, storageDir: string, port: number, logLevel: string): object {
  const cfg: Record<string, unknown> = {
    version: 0.1,
    log: { level: logLevel, formatter: 'text', accesslog: { disabled: logLevel !== 'debug' && logLevel !== 'info' } },
    storage: {
      filesystem: { rootdirectory: storageDir },
      delete: { enabled: true },
      maintenance: { uploadpurging: { enabled: false } },
    },
    http: {
      addr: `127.0.0.1:${port}`,
      secret: randomBytes(16).toString('hex'),
      headers: { 'X-Content-Type-Options': ['nosniff'] },
      ...(opts.tls ? { tls: { certificate: opts.tls.certificate, key: opts.tls.key } } : {}),
    },
    health: { storagedriver: { enabled: false } },
  };
  if (opts.auth && 'htpasswd' in opts.auth) {
    cfg.auth = { htpasswd: { realm: opts.auth.htpasswd.realm ?? 'tsdock-test', path: opts.auth.htpasswd.path } };
  } else if (opts.auth && 'token' in opts.auth) {
    const t = opts.auth.token;
    cfg.auth = {
      token: {
        realm: t.realm,
        service: t.service,
        issuer: t.issuer,
        rootcertbundle: t.rootcertbundle,
        ...(t.autoredirect !== undefined ? { autoredirect: t.autoredirect } : {}),
      },
    };
  }
  return cfg;
}

/** Start one registry. Retries with a new port if the chosen one was taken in the meantime. */
export async function startRegistry(opts: StartRegistryOptions = {}): Promise<RunningRegistry> {
  const ownDir = !opts.dir;
  const dir = opts.dir ?? mkdtempSync(path.join(os.tmpdir(), `tsdock-registry-${opts.name ?? 'r'}-`));
  mkdirSync(dir, { recursive: true });
  if (ownDir) registerTempDir(dir);
  const storageDir = path.join(dir, 'storage');
  mkdirSync(storageDir, { recursive: true });
  const configPath = path.join(dir, 'config.yml');
  const logPath = path.join(dir, 'registry.log');
  const scheme = opts.tls ? 'https' : 'http';

  let lastErr: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    writeFileSync(configPath, YAML.stringify(registryConfig(opts, storageDir, port, opts.logLevel ?? 'warn')));
    const logStart = (() => {
      try {
        return readFileSync(logPath, 'utf8').length;
      } catch {
        return 0;
      }
    })();
    const proc = spawnManaged(BIN, ['serve', configPath], { logPath, cwd: dir });
    let dead = false;
    void proc.exited.then(() => {
      dead = true;
    });
    const url = `${scheme}://127.0.0.1:${port}`;
    try {
      await waitForRegistry(url, { ca: opts.tls?.ca, isDead: () => dead, timeoutMs: 15_000 });
    } catch (e) {
      await proc.stop(500);
      const log = proc.readLog().slice(logStart);
      lastErr = new Error(`${(e as Error).message}\n--- ${logPath} ---\n${log}`);
      if (/address already in use/i.test(log)) continue;
      break;
    }
    let stopped = false;
    return {
      host: `127.0.0.1:${port}`,
      url,
      storageDir,
      dir,
      configPath,
      logPath,
      pid: proc.pid,
      process: proc,
      caCertPath: opts.tls?.ca,
      async stop() {
        if (stopped) return;
        stopped = true;
        await proc.stop();
        if (ownDir && !process.env.TSDOCK_HARNESS_KEEP) {
          rmSync(dir, { recursive: true, force: true });
          unregisterTempDir(dir);
        }
      },
    };
  }
  if (ownDir && !process.env.TSDOCK_HARNESS_KEEP) rmSync(dir, { recursive: true, force: true });
  throw lastErr instanceof Error ? lastErr : new Error(String(lastErr));
}

/** Path of a blob's data file in a registry's filesystem storage. */
export function blobDataPath(registry: Pick<RegistryInfo, 'storageDir'>, digest: string): string {
  const [alg, hex] = digest.split(':');
  if (alg !== 'sha256' || !hex || !/^[0-9a-f]{64}$/.test(hex)) throw new Error(`unsupported digest ${digest}`);
  return path.join(registry.storageDir, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex, 'data');
}
