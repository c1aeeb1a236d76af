// tsdock integration-test harness: three local registries (plain http, htpasswd+TLS, bearer-token) and fixture
// images built with third-party tools. See test/harness/README.md.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeServerCert, makeTestCA, makeTokenSigningCert } from './certs.js';
import { buildFixtureLayouts, pushBusyboxTo, pushFixtures, type Fixtures, type FixtureLayouts, type ImageFixture } from './fixtures.js';
import { registerTempDir, run, spawnManaged, sweepStaleTempDirs, unregisterTempDir, type ManagedProcess } from './proc.js';
import { startRegistry, type RegistryInfo, type RunningRegistry } from './registry.js';
import { readTokenLog, type TokenRequestLog, type TokenServerConfig } from './token-server.js';

export * from './fixtures.js';
export * from './registry.js';
export { skopeoInspect, skopeoCopy, type SkopeoAuth, type SkopeoCopyOptions } from './skopeo.js';
export {
  pushRaw,
  corruptBlob,
  getManifest,
  putManifest,
  uploadBlob,
  retag,
  makeLayer,
  sha256,
  hostArch,
  MT,
  type RawImage,
  type RawLayer,
  type PushedImage,
  type Descriptor,
} from './oci.js';
export { makeTar, type TarEntry, type TarEntryType } from './tar.js';
export { request, registrySession, RegistrySession, type RegistryAuth, type HttpResponse } from './http.js';
export { freePort, liveChildPids, run, CommandError, sweepStaleTempDirs } from './proc.js';
export { createTokenServer, readTokenLog, TokenSigner, type TokenRequestLog, type TokenServerConfig } from './token-server.js';

export const TOKEN_SERVICE = 'tsdock-test';
export const TOKEN_ISSUER = 'tsdock-test-issuer';

export interface BasicTlsRegistry extends RegistryInfo {
  /** PEM of the test CA that signed the registry's certificate. */
  caCertPath: string;
  /** A dir laid out like /etc/docker/certs.d: `<dir>/127.0.0.1:<port>/ca.crt` (and `localhost:<port>/ca.crt`). */
  certsDirFor(): string;
  /** Flat dir containing ca.crt, as skopeo's --cert-dir / --dest-cert-dir want it. */
  certDir: string;
  username: string;
  password: string;
  /** busybox (Docker schema2) pushed as private/busybox:latest — present when fixtures were requested. */
  images: { busybox?: ImageFixture };
}

export interface TokenRegistry extends RegistryInfo {
  username: string;
  password: string;
  /** A second user whose tokens only ever carry `pull`. */
  readOnly: { username: string; password: string };
  /** Base URL of the token server (realm is `${tokenServer}/token`). */
  tokenServer: string;
  realm: string;
  service: string;
  issuer: string;
  /** Self-signed cert whose key signs tokens; also the registry's rootcertbundle. */
  signingCertPath: string;
  /** Token-server requests so far (JSON-lines log; no secrets). */
  tokenRequests(): TokenRequestLog[];
  images: { busybox?: ImageFixture };
}

export interface Harness {
  plain: RegistryInfo;
  basicTls: BasicTlsRegistry;
  token: TokenRegistry;
  /** Present when started with fixtures (the default); throws on access otherwise. */
  fixtures: Fixtures;
  workDir: string;
  /** Milliseconds spent per phase (for the curious and for regression-spotting). */
  timings: Record<string, number>;
  /** Process ids of the registries and the token server. */
  pids: number[];
  stop(): Promise<void>;
}

const USER = 'tsdock';
const PASSWORD = 'tsdock-secret';
const RO_USER = 'reader';
const RO_PASSWORD = 'reader-secret';

async function startTokenServer(workDir: string, signer: { certPath: string; keyPath: string }): Promise<{ proc: ManagedProcess; url: string; logPath: string }> {
  const dir = path.join(workDir, 'token-server');
  mkdirSync(dir, { recursive: true });
  const logPath = path.join(dir, 'requests.jsonl');
  const cfg: TokenServerConfig = {
    keyPath: signer.keyPath,
    certPath: signer.certPath,
    issuer: TOKEN_ISSUER,
    service: TOKEN_SERVICE,
    users: { [USER]: { password: PASSWORD }, [RO_USER]: { password: RO_PASSWORD, actions: ['pull'] } },
    logPath,
    expiresIn: 300,
  };
  const cfgPath = path.join(dir, 'config.json');
  writeFileSync(cfgPath, JSON.stringify(cfg));
  const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'token-server.js');
  const proc = spawnManaged(process.execPath, [script, '--tsdock-token-server', cfgPath], {
    logPath: path.join(dir, 'server.log'),
    stdoutPipe: true,
  });
  const port = await new Promise<number>((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`token server did not start:\n${proc.readLog()}`)), 10_000);
    proc.child.stdout!.on('data', (c: Buffer) => {
      buf += c.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        resolve((JSON.parse(buf.slice(0, nl)) as { port: number }).port);
      }
    });
    void proc.exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`token server exited:\n${proc.readLog()}`));
    });
  });
  (proc.child.stdout as unknown as { unref?: () => void }).unref?.();
  return { proc, url: `http://127.0.0.1:${port}`, logPath };
}

/**
 * Start the three registries (and the token server) and, unless `fixtures: false`, push the fixtures.
 * Everything lives under one temp dir and is torn down by stop() — or at process exit / SIGINT / SIGTERM.
 */
export async function startHarness(opts: { fixtures?: boolean } = {}): Promise<Harness> {
  const wantFixtures = opts.fixtures ?? true;
  const timings: Record<string, number> = {};
  const t0 = Date.now();
  const mark = (k: string, since: number): void => {
    timings[k] = Date.now() - since;
  };
  sweepStaleTempDirs('tsdock-harness-');
  sweepStaleTempDirs('tsdock-registry-');
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'tsdock-harness-'));
  registerTempDir(workDir);

  const registries: RunningRegistry[] = [];
  let tokenProc: ManagedProcess | undefined;
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await Promise.all([...registries.map((r) => r.stop()), tokenProc?.stop()]);
    if (!process.env.TSDOCK_HARNESS_KEEP) rmSync(workDir, { recursive: true, force: true });
    unregisterTempDir(workDir);
  };

  try {
    // Kick off the (usually cached) layout build while we make certificates and start registries.
    const layoutsP: Promise<FixtureLayouts> | undefined = wantFixtures
      ? (() => {
          const t = Date.now();
          return buildFixtureLayouts().then((l) => (mark('buildLayouts', t), l));
        })()
      : undefined;
    layoutsP?.catch(() => {});

    const tPki = Date.now();
    const pki = path.join(workDir, 'pki');
    const [ca, signer, htpasswdLine] = await Promise.all([
      makeTestCA(pki),
      makeTokenSigningCert(pki),
      run('htpasswd', ['-Bbn', USER, PASSWORD]).then((r) => r.stdout.trim()),
    ]);
    const server = await makeServerCert(pki, ca);
    const htpasswdPath = path.join(pki, 'htpasswd');
    writeFileSync(htpasswdPath, htpasswdLine + '\n');
    mark('pki', tPki);

    const tReg = Date.now();
    const token = await startTokenServer(workDir, signer);
    tokenProc = token.proc;
    const realm = `${token.url}/token`;
    const started = await Promise.all([
      startRegistry({ dir: path.join(workDir, 'registry-plain'), name: 'plain' }),
      startRegistry({
        dir: path.join(workDir, 'registry-basic-tls'),
        name: 'basic-tls',
        auth: { htpasswd: { path: htpasswdPath, realm: 'tsdock-basic' } },
        tls: { certificate: server.certPath, key: server.keyPath, ca: ca.certPath },
      }),
      startRegistry({
        dir: path.join(workDir, 'registry-token'),
        name: 'token',
        auth: { token: { realm, service: TOKEN_SERVICE, issuer: TOKEN_ISSUER, rootcertbundle: signer.certPath } },
      }),
    ]);
    registries.push(...started);
    const [plainReg, basicReg, tokenReg] = started as [RunningRegistry, RunningRegistry, RunningRegistry];
    mark('registries', tReg);

    // certs.d-style layout for the TLS registry
    const certsD = path.join(workDir, 'certs.d');
    const port = basicReg.host.split(':')[1]!;
    for (const h of [basicReg.host, `localhost:${port}`]) {
      mkdirSync(path.join(certsD, h), { recursive: true });
      copyFileSync(ca.certPath, path.join(certsD, h, 'ca.crt'));
    }
    const certDir = path.join(certsD, basicReg.host);

    const basicTls: BasicTlsRegistry = {
      host: basicReg.host,
      url: basicReg.url,
      storageDir: basicReg.storageDir,
      caCertPath: ca.certPath,
      certsDirFor: () => certsD,
      certDir,
      username: USER,
      password: PASSWORD,
      images: {},
    };
    const tokenInfo: TokenRegistry = {
      host: tokenReg.host,
      url: tokenReg.url,
      storageDir: tokenReg.storageDir,
      username: USER,
      password: PASSWORD,
      readOnly: { username: RO_USER, password: RO_PASSWORD },
      tokenServer: token.url,
      realm,
      service: TOKEN_SERVICE,
      issuer: TOKEN_ISSUER,
      signingCertPath: signer.certPath,
      tokenRequests: () => readTokenLog(token.logPath),
      images: {},
    };
    const plain: RegistryInfo = { host: plainReg.host, url: plainReg.url, storageDir: plainReg.storageDir };

    let fixtures: Fixtures | undefined;
    if (layoutsP) {
      const layouts = await layoutsP;
      const tPush = Date.now();
      const creds = `${USER}:${PASSWORD}`;
      const [fx, basicBb, tokenBb] = await Promise.all([
        pushFixtures(plain, workDir, layouts),
        pushBusyboxTo(basicTls.host, 'private/busybox', 'latest', { creds, certDir }, layouts),
        pushBusyboxTo(tokenInfo.host, 'private/busybox', 'latest', { creds }, layouts),
      ]);
      fixtures = fx;
      basicTls.images.busybox = basicBb;
      tokenInfo.images.busybox = tokenBb;
      mark('push', tPush);
    }
    mark('total', t0);

    return {
      plain,
      basicTls,
      token: tokenInfo,
      get fixtures(): Fixtures {
        if (!fixtures) throw new Error('harness was started with { fixtures: false }');
        return fixtures;
      },
      workDir,
      timings,
      pids: [...registries.map((r) => r.pid), token.proc.pid],
      stop,
    };
  } catch (e) {
    await stop().catch(() => {});
    throw e;
  }
}
