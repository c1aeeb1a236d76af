// Minimal HTTP(S) client for talking to test registries directly (readiness probes, raw pushes,
// manifest fetches). Handles Basic and Bearer (token server) challenges. Test-only code.
import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
  /** PEM CA bundle (contents or a path ending in .crt/.pem) for https URLs. */
  ca?: string;
  timeoutMs?: number;
}

function loadCa(ca: string | undefined): string | undefined {
  if (!ca) return undefined;
  return ca.includes('-----BEGIN') ? ca : readFileSync(ca, 'utf8');
}

export function request(url: string, opts: RequestOptions = {}): Promise<HttpResponse> {
  const u = new URL(url);
  const mod = u.protocol === 'https:' ? https : http;
  const body = typeof opts.body === 'string' ? Buffer.from(opts.body) : opts.body;
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  if (body && headers['Content-Length'] === undefined) headers['Content-Length'] = String(body.length);
  return new Promise((resolve, reject) => {
    const req = mod.request(
      u,
      {
        method: opts.method ?? 'GET',
        headers,
        ca: loadCa(opts.ca),
        agent: false,
        timeout: opts.timeoutMs ?? 30_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timeout: ${opts.method ?? 'GET'} ${url}`)));
    req.on('error', reject);
    req.end(body);
  });
}

export interface RegistryAuth {
  username?: string;
  password?: string;
  /** CA for https registries (PEM contents or path). */
  ca?: string;
}

/** Parse `Bearer realm="…",service="…",scope="…"` (or Basic) into its scheme and params. */
export function parseChallenge(header: string): { scheme: string; params: Record<string, string> } {
  const m = /^(\w+)\s*(.*)$/s.exec(header.trim());
  if (!m) return { scheme: '', params: {} };
  const params: Record<string, string> = {};
  const re = /(\w+)=(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g;
  let p: RegExpExecArray | null;
  while ((p = re.exec(m[2]!))) params[p[1]!.toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : p[3]!;
  return { scheme: m[1]!.toLowerCase(), params };
}

/**
 * A tiny authenticated registry session: remembers the Authorization header that worked and re-negotiates
 * on 401 (Basic → credentials; Bearer → GET realm?service&scope with Basic credentials when we have them).
 */
export class RegistrySession {
  private authHeader: string | undefined;
  readonly base: string;

  constructor(
    readonly host: string,
    readonly auth: RegistryAuth = {},
    scheme?: 'http' | 'https',
  ) {
    this.base = `${scheme ?? (auth.ca ? 'https' : 'http')}://${host}`;
  }

  async fetch(pathOrUrl: string, opts: RequestOptions = {}, scope?: string): Promise<HttpResponse> {
    const url = pathOrUrl.startsWith('http') ? pathOrUrl : this.base + pathOrUrl;
    const send = (): Promise<HttpResponse> =>
      request(url, {
        ...opts,
        ca: this.auth.ca,
        headers: { ...(opts.headers ?? {}), ...(this.authHeader ? { Authorization: this.authHeader } : {}) },
      });
    let res = await send();
    if (res.status !== 401) return res;
    const www = res.headers['www-authenticate'];
    if (!www) return res;
    const { scheme, params } = parseChallenge(Array.isArray(www) ? www[0]! : www);
    const basic =
      this.auth.username !== undefined
        ? 'Basic ' + Buffer.from(`${this.auth.username}:${this.auth.password ?? ''}`).toString('base64')
        : undefined;
    if (scheme === 'basic') {
      if (!basic) return res;
      this.authHeader = basic;
    } else if (scheme === 'bearer') {
      const realm = new URL(params.realm!);
      if (params.service) realm.searchParams.set('service', params.service);
      const wanted = scope ?? params.scope;
      if (wanted) for (const s of wanted.split(' ')) realm.searchParams.append('scope', s);
      const tr = await request(realm.toString(), { headers: basic ? { Authorization: basic } : {}, ca: this.auth.ca });
      if (tr.status !== 200) throw new Error(`token request to ${realm} failed: ${tr.status} ${tr.body.toString()}`);
      const tok = JSON.parse(tr.body.toString()) as { token?: string; access_token?: string };
      this.authHeader = `Bearer ${tok.token ?? tok.access_token}`;
    } else {
      return res;
    }
    res = await send();
    return res;
  }
}

export function registrySession(host: string, auth?: RegistryAuth): RegistrySession {
  return new RegistrySession(host, auth);
}

/** Poll GET /v2/ until it answers 200 or 401. */
export async function waitForRegistry(
  url: string,
  opts: { ca?: string; timeoutMs?: number; isDead?: () => boolean } = {},
): Promise<void> {
  const deadline = Date.now() + (opts.timeoutMs ?? 15_000);
  let last = '';
  while (Date.now() < deadline) {
    if (opts.isDead?.()) throw new Error(`registry at ${url} exited during startup`);
    try {
      const res = await request(`${url}/v2/`, { ca: opts.ca, timeoutMs: 2000 });
      if (res.status === 200 || res.status === 401) return;
      last = `HTTP ${res.status}`;
    } catch (e) {
      last = (e as Error).message;
    }
    await new Promise((r) => setTimeout(r, 40));
  }
  throw new Error(`registry at ${url} not ready: ${last}`);
}
