// A small Docker-registry token server (https://distribution.github.io/distribution/spec/auth/token/) for tests.
//
//   GET  /token?service=…&scope=repository:<name>:pull,push[&scope=…][&account=…]   (Basic auth optional)
//   POST /token  (OAuth2 form: grant_type=password|refresh_token, username, password, refresh_token, scope, service)
//
// Valid users get the requested actions (limited to the actions configured for them); anonymous callers get a
// token with NO access, so the registry answers 401/insufficient_scope like Docker Hub does for private repos.
// Bad credentials get 401. Tokens are RS256 JWTs whose header carries `x5c: [<signing cert DER, base64>]`;
// distribution 2.8 verifies that chain against `auth.token.rootcertbundle` (the same self-signed cert).
//
// Runs in-process (createTokenServer) or as a child: `node token-server.js --tsdock-token-server <config.json>`,
// which prints `{"port":N}` on stdout once listening on 127.0.0.1.
import http from 'node:http';
import { createPrivateKey, createSign, randomUUID, X509Certificate, type KeyObject } from 'node:crypto';
import { appendFileSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface TokenUser {
  password: string;
  /** Actions this user may be granted; default pull, push, delete and '*'. */
  actions?: string[];
}

export interface TokenServerConfig {
  keyPath: string;
  certPath: string;
  issuer: string;
  service: string;
  users: Record<string, TokenUser>;
  /** JSON-lines request log (no secrets). */
  logPath?: string;
  expiresIn?: number;
}

export interface TokenRequestLog {
  time: string;
  method: string;
  path: string;
  service: string | null;
  scopes: string[];
  account: string | null;
  /** Authenticated user, 'anonymous', or 'invalid:<name>' for bad credentials. */
  user: string;
  status: number;
  granted: Array<{ type: string; name: string; actions: string[] }>;
  grantType?: string;
}

interface ResourceActions {
  type: string;
  name: string;
  actions: string[];
}

const b64url = (b: Buffer | string): string => Buffer.from(b).toString('base64url');

/** Parse `type[(class)]:name:actions` scopes; several may be space-separated in one string. */
export function parseScopes(scopes: string[]): ResourceActions[] {
  const out: ResourceActions[] = [];
  for (const s of scopes.flatMap((x) => x.split(' ')).filter(Boolean)) {
    const first = s.indexOf(':');
    const last = s.lastIndexOf(':');
    if (first < 0 || last <= first) continue;
    const type = s.slice(0, first).replace(/\(.*\)$/, '');
    out.push({ type, name: s.slice(first + 1, last), actions: s.slice(last + 1).split(',').filter(Boolean) });
  }
  return out;
}

export class TokenSigner {
  private readonly key: KeyObject;
  private readonly x5c: string;

  constructor(
    keyPem: string,
    certPem: string,
    readonly issuer: string,
    readonly service: string,
    readonly expiresIn = 300,
  ) {
    this.key = createPrivateKey(keyPem);
    this.x5c = new X509Certificate(certPem).raw.toString('base64');
  }

  sign(subject: string, access: ResourceActions[]): { token: string; issuedAt: Date } {
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: 'JWT', alg: 'RS256', x5c: [this.x5c] };
    const claims = {
      iss: this.issuer,
      sub: subject,
      aud: this.service, // distribution 2.8 unmarshals aud as a single string
      exp: now + this.expiresIn,
      nbf: now - 10,
      iat: now,
      jti: randomUUID(),
      access,
    };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const sig = createSign('RSA-SHA256').update(input).sign(this.key);
    return { token: `${input}.${b64url(sig)}`, issuedAt: new Date(now * 1000) };
  }
}

const DEFAULT_ACTIONS = ['pull', 'push', 'delete', '*'];

export function createTokenServer(cfg: TokenServerConfig): http.Server {
  const signer = new TokenSigner(
    readFileSync(cfg.keyPath, 'utf8'),
    readFileSync(cfg.certPath, 'utf8'),
    cfg.issuer,
    cfg.service,
    cfg.expiresIn ?? 300,
  );
  const refreshTokens = new Map<string, string>();

  const log = (entry: TokenRequestLog): void => {
    const line = JSON.stringify(entry);
    if (cfg.logPath) appendFileSync(cfg.logPath, line + '\n');
    if (process.env.TSDOCK_HARNESS_DEBUG) process.stderr.write(`[token-server] ${line}\n`);
  };

  const checkUser = (name: string | null, password: string | null): 'ok' | 'bad' | 'anon' => {
    if (name === null) return 'anon';
    const u = cfg.users[name];
    return u && u.password === password ? 'ok' : 'bad';
  };

  const grant = (user: string | null, requested: ResourceActions[]): ResourceActions[] => {
    if (user === null) return [];
    const allowed = cfg.users[user]?.actions ?? DEFAULT_ACTIONS;
    return requested
      .map((r) => ({ ...r, actions: r.actions.filter((a) => allowed.includes(a)) }))
      .filter((r) => r.actions.length > 0);
  };

  return http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const entry: TokenRequestLog = {
        time: new Date().toISOString(),
        method: req.method ?? 'GET',
        path: url.pathname,
        service: null,
        scopes: [],
        account: null,
        user: 'anonymous',
        status: 200,
        granted: [],
      };
      const reply = (status: number, body: unknown): void => {
        entry.status = status;
        log(entry);
        const data = JSON.stringify(body);
        res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) });
        res.end(data);
      };
      if (url.pathname !== '/token') return reply(404, { errors: [{ code: 'NOT_FOUND', message: 'no such endpoint' }] });

      let name: string | null = null;
      let password: string | null = null;
      let scopes: string[];
      let offline = false;
      if (req.method === 'POST') {
        const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
        entry.grantType = form.get('grant_type') ?? undefined;
        entry.service = form.get('service');
        scopes = form.getAll('scope');
        offline = form.get('access_type') === 'offline';
        if (entry.grantType === 'password') {
          name = form.get('username');
          password = form.get('password');
        } else if (entry.grantType === 'refresh_token') {
          const who = refreshTokens.get(form.get('refresh_token') ?? '');
          if (!who) {
            entry.user = 'invalid:refresh_token';
            return reply(401, { errors: [{ code: 'UNAUTHORIZED', message: 'invalid refresh token' }] });
          }
          name = who;
          password = cfg.users[who]!.password;
        } else {
          return reply(400, { errors: [{ code: 'UNSUPPORTED', message: 'unsupported grant_type' }] });
        }
      } else if (req.method === 'GET') {
        entry.service = url.searchParams.get('service');
        entry.account = url.searchParams.get('account');
        scopes = url.searchParams.getAll('scope');
        const authz = req.headers.authorization;
        if (authz?.toLowerCase().startsWith('basic ')) {
          const dec = Buffer.from(authz.slice(6).trim(), 'base64').toString('utf8');
          const i = dec.indexOf(':');
          name = i < 0 ? dec : dec.slice(0, i);
          password = i < 0 ? '' : dec.slice(i + 1);
        }
      } else {
        return reply(405, { errors: [{ code: 'UNSUPPORTED', message: 'method not allowed' }] });
      }
      entry.scopes = scopes;

      const who = checkUser(name, password);
      if (who === 'bad') {
        entry.user = `invalid:${name}`;
        res.setHeader('WWW-Authenticate', 'Basic realm="tsdock-test-token"');
        return reply(401, { errors: [{ code: 'UNAUTHORIZED', message: 'incorrect username or password' }] });
      }
      const user = who === 'ok' ? name : null;
      entry.user = user ?? 'anonymous';
      const granted = grant(user, parseScopes(scopes));
      entry.granted = granted;
      const { token, issuedAt } = signer.sign(user ?? '', granted);
      const body: Record<string, unknown> = {
        token,
        access_token: token,
        expires_in: signer.expiresIn,
        issued_at: issuedAt.toISOString(),
      };
      if (user && (req.method === 'POST' || offline)) {
        const rt = randomUUID();
        refreshTokens.set(rt, user);
        body.refresh_token = rt;
      }
      reply(200, body);
    });
  });
}

/** Read a token server's JSON-lines request log. */
export function readTokenLog(logPath: string): TokenRequestLog[] {
  let text = '';
  try {
    text = readFileSync(logPath, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as TokenRequestLog);
}

// Child-process entry point. Only runs with the explicit flag, so test globs that import/execute every .js
// under dist/test never start a server by accident.
const isMain = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain && process.argv[2] === '--tsdock-token-server' && process.argv[3]) {
  const cfg = JSON.parse(readFileSync(process.argv[3], 'utf8')) as TokenServerConfig;
  const server = createTokenServer(cfg);
  server.listen({ host: '127.0.0.1', port: 0 }, () => {
    const addr = server.address();
    process.stdout.write(JSON.stringify({ port: typeof addr === 'object' && addr ? addr.port : 0 }) + '\n');
  });
  const shutdown = (): void => {
    server.close();
    process.exit(0);
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
}
