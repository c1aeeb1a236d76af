/** Errors raised by the registry client, and parsing of distribution-spec error bodies. */
import { TsdockError } from '../../errors.js';

/** A request never got an HTTP response: connection refused/reset, TLS failure, timeout, DNS. */
export class NetworkError extends TsdockError {
  readonly code: string;
  constructor(message: string, code: string, options: { cause?: unknown } = {}) {
    super(message, options);
    this.code = code;
  }
}

/** The registry answered with an error status not mapped to NotFoundError / AuthError. */
export class RegistryError extends TsdockError {
  readonly status: number;
  readonly codes: string[];
  constructor(message: string, status: number, codes: string[] = []) {
    super(message);
    this.status = status;
    this.codes = codes;
  }
}

/** Authentication or authorization failed (401/403, token endpoint refused). */
export class AuthError extends RegistryError {}

export interface DistributionError {
  code: string;
  message: string;
}

/** Parse `{"errors":[{"code","message","detail"}]}`; undefined when the body is not of that shape. */
export function parseErrorBody(body: Buffer | string): DistributionError[] | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(body.toString());
  } catch {
    return undefined;
  }
  const errors = (doc as { errors?: unknown } | null)?.errors;
  if (!Array.isArray(errors)) return undefined;
  return errors
    .filter((e): e is Record<string, unknown> => e !== null && typeof e === 'object')
    .map((e) => ({ code: typeof e.code === 'string' ? e.code : 'UNKNOWN', message: typeof e.message === 'string' ? e.message : '' }));
}

/** `manifest unknown: manifest unknown; denied: requested access…` or a trimmed plain-text body. */
export function describeErrorBody(body: Buffer | string): string {
  const errors = parseErrorBody(body);
  if (errors && errors.length > 0) {
    return errors.map((e) => (e.message ? `${e.code.toLowerCase().replace(/_/g, ' ')}: ${e.message}` : e.code.toLowerCase())).join('; ');
  }
  const text = body.toString().replace(/\s+/g, ' ').trim();
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

export function errorCodes(body: Buffer | string): string[] {
  return parseErrorBody(body)?.map((e) => e.code) ?? [];
}

