/**
 * Registry authentication: Bearer tokens (docker token spec / OAuth2 refresh tokens) and Basic.
 *
 * Tokens are cached per (realm, service, scopes, user) until `expires_in` (default and minimum 60 s) runs
 * out, in a process-wide cache shared by all clients. Basic credentials are never sent over plain http to a
 * host that is not loopback.
 */
import { URLSearchParams } from 'node:url';
import type { Credentials } from './credentials.js';
import { AuthError, describeErrorBody } from './errors.js';
import { readBody, readErrorBody, type HttpRequestOptions, type HttpResponse } from './http.js';
import { parseWwwAuthenticate, type Challenge } from './challenge.js';
import { isLoopbackHost } from './tls.js';

export { parseWwwAuthenticate, type Challenge } from './challenge.js';

export class TokenCache {
  private readonly entries = new Map<string, { token: string; expiresAt: number }>();
  get(key: string): string | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.token;
  }
  set(key: string, token: string, ttlSeconds: number): void {
    this.entries.set(key, { token, expiresAt: Date.now() + ttlSeconds * 1000 });
  }
  delete(key: string): void {
    this.entries.delete(key);
  }
  clear(): void {
    this.entries.clear();
  }
}

export const sharedTokenCache = new TokenCache();

const MIN_TOKEN_LIFETIME = 60;

export interface AuthorizerOptions {
  /** for messages: `docker.io/library/alpine` */
  target: string;
  /** registry API origin, e.g. `https://registry-1.docker.io` (set once the scheme is known) */
  origin: () => URL;
  /** `repository:<repo>:pull` … */
  scopes: string[];
  credentials: () => Promise<Credentials | undefined>;
  /** performs a request with the client's TLS, signal, retry and user-agent settings */
  send: (opts: HttpRequestOptions) => Promise<HttpResponse>;
  cache?: TokenCache;
}

function basicHeader(creds: Credentials): string {
  return `Basic ${Buffer.from(`${creds.username}:${creds.password}`).toString('base64')}`;
}

export function mayUseBasicOver(url: URL): boolean {
  return url.protocol === 'https:' || isLoopbackHost(url.host);
}

/** Keeps the last challenge of one registry and turns it into Authorization headers. */
export class Authorizer {
  private challenge: Challenge | undefined;
  private lastTokenKey: string | undefined;
  private readonly cache: TokenCache;

  constructor(private readonly opts: AuthorizerOptions) {
    this.cache = opts.cache ?? sharedTokenCache;
  }

  /** Learn the challenge from a 401 response (ping or any request). Returns false if it had none usable. */
  learn(res: HttpResponse): boolean {
    const challenges = parseWwwAuthenticate(res.headers['www-authenticate']);
    const chosen = challenges.find((c) => c.scheme === 'bearer' && c.params.realm) ?? challenges.find((c) => c.scheme === 'basic');
    if (!chosen) return false;
    this.challenge = chosen;
    return true;
  }

  get scheme(): string | undefined {
    return this.challenge?.scheme;
  }

  /** Forget the cached token for the current challenge (after the registry rejected it). */
  invalidate(): void {
    if (this.lastTokenKey !== undefined) this.cache.delete(this.lastTokenKey);
    this.lastTokenKey = undefined;
  }

  /** The Authorization header for the next request, or undefined when none is needed/possible. */
  async header(): Promise<string | undefined> {
    const challenge = this.challenge;
    if (!challenge) return undefined;
    const creds = await this.opts.credentials();
    if (challenge.scheme === 'basic') {
      if (!creds) throw this.authRequired();
      if (!mayUseBasicOver(this.opts.origin())) {
        throw new AuthError(`refusing to send credentials for ${this.opts.target} over plain http`, 401);
      }
      return basicHeader(creds);
    }
    return `Bearer ${await this.bearerToken(challenge, creds)}`;
  }

  authRequired(): AuthError {
    return new AuthError(`authentication required for ${this.opts.target} (no credentials found; run tsdock login)`, 401);
  }

  invalidCredentials(detail = 'invalid username or password'): AuthError {
    return new AuthError(`access denied to ${this.opts.target}: ${detail}`, 401);
  }

  private scopes(challenge: Challenge): string[] {
    const extra = challenge.params.scope ? challenge.params.scope.split(' ').filter(Boolean) : [];
    return [...new Set([...this.opts.scopes, ...extra])];
  }

  private tokenKey(challenge: Challenge, creds: Credentials | undefined): string {
    const p = challenge.params;
    return JSON.stringify([p.realm, p.service ?? '', this.scopes(challenge).join(' '), creds?.username ?? '', creds?.identityToken ? 'idt' : '']);
  }

  private async bearerToken(challenge: Challenge, creds: Credentials | undefined): Promise<string> {
    const key = this.tokenKey(challenge, creds);
    this.lastTokenKey = key;
    const cached = this.cache.get(key);
    if (cached) return cached;
    let realm: URL;
    try {
      realm = new URL(challenge.params.realm!);
      if (realm.protocol !== 'https:' && realm.protocol !== 'http:') throw new Error('unsupported scheme');
    } catch {
      throw new AuthError(`invalid token realm "${challenge.params.realm}" from ${this.opts.target}`, 401);
    }
    if (creds && !mayUseBasicOver(realm)) {
      throw new AuthError(`refusing to send credentials for ${this.opts.target} to ${realm.origin} over plain http`, 401);
    }
    const scopes = this.scopes(challenge);
    const res = creds?.identityToken ? await this.oauthRequest(realm, challenge, scopes, creds.identityToken) : await this.tokenRequest(realm, challenge, scopes, creds);
    if (res.status === 401 || res.status === 403) {
      const detail = describeErrorBody(await readErrorBody(res));
      if (creds) throw this.invalidCredentials(res.status === 401 ? undefined : detail || 'denied');
      throw this.authRequired();
    }
    if (res.status < 200 || res.status >= 300) {
      const detail = describeErrorBody(await readErrorBody(res));
      throw new AuthError(`token request for ${this.opts.target} to ${realm.origin}${realm.pathname} failed: ${res.status}${detail ? ` ${detail}` : ''}`, res.status);
    }
    const body = await readBody(res, 1024 * 1024, `token response from ${realm.origin}`);
    let doc: { token?: unknown; access_token?: unknown; expires_in?: unknown };
    try {
      doc = JSON.parse(body.toString('utf8')) as typeof doc;
    } catch {
      throw new AuthError(`token response from ${realm.origin} for ${this.opts.target} is not json`, res.status);
    }
    const token = typeof doc.token === 'string' && doc.token ? doc.token : typeof doc.access_token === 'string' ? doc.access_token : '';
    if (!token) throw new AuthError(`token response from ${realm.origin} for ${this.opts.target} has no token`, res.status);
    const expiresIn = typeof doc.expires_in === 'number' && doc.expires_in > MIN_TOKEN_LIFETIME ? doc.expires_in : MIN_TOKEN_LIFETIME;
    // renew a little early so a token does not expire between the check and the request
    this.cache.set(key, token, expiresIn - Math.min(10, expiresIn / 10));
    return token;
  }

  private tokenRequest(realm: URL, challenge: Challenge, scopes: string[], creds: Credentials | undefined): Promise<HttpResponse> {
    const url = new URL(realm);
    if (challenge.params.service) url.searchParams.set('service', challenge.params.service);
    for (const scope of scopes) url.searchParams.append('scope', scope);
    const headers: Record<string, string> = {};
    if (creds) {
      url.searchParams.set('account', creds.username);
      headers.authorization = basicHeader(creds);
    }
    return this.opts.send({ method: 'GET', url, headers });
  }

  private oauthRequest(realm: URL, challenge: Challenge, scopes: string[], refreshToken: string): Promise<HttpResponse> {
    const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: 'tsdock', access_type: 'offline' });
    if (challenge.params.service) form.set('service', challenge.params.service);
    if (scopes.length) form.set('scope', scopes.join(' '));
    return this.opts.send({ method: 'POST', url: realm, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form.toString() });
  }
}
