import { GUEST_PATH, SwitchboardError, isErrorCode, isGuestAnswer, isJsonObject, isSessionAnswer, type ErrorCode } from '@switchboard/protocol';
import type { TokenProvider } from '../types.js';

export const SESSION_PATH = '/v1/session';
/** RFC 6455 subprotocol token characters; the token rides in `bearer.<jwt>`. */
const SUBPROTOCOL_CHARS = /^[!#$%&'*+\-.0-9A-Z^_`|a-z~]+$/;

export interface Credential {
  token: string;
  /** Where it came from: the app (`options.token`) or a guest token this SDK fetched. */
  source: 'app' | 'guest';
  /** A guest token fetched just now (a 401 with it is final; with a cached one, fetch again). */
  fresh: boolean;
}

/**
 * Gets the token for each (re)connect: `options.token` (a string, or a function
 * asked every time so it can refresh) or a guest token from `POST /v1/guest`,
 * cached until the server refuses it.
 */
export class TokenSource {
  private guestToken: string | null = null;

  constructor(
    private readonly options: {
      token: TokenProvider | undefined;
      name: string | undefined;
      http: string;
      fetch: typeof fetch;
      timeoutMs: number;
    },
  ) {}

  get usesGuest(): boolean {
    return this.options.token === undefined;
  }

  async get(): Promise<Credential> {
    const provider = this.options.token;
    if (provider !== undefined) {
      let token: unknown;
      try {
        token = typeof provider === 'function' ? await provider() : provider;
      } catch (cause) {
        if (cause instanceof SwitchboardError) throw cause;
        throw new SwitchboardError('UNAUTHORIZED', `The token provider failed: ${errorText(cause)}`, { cause });
      }
      if (typeof token !== 'string' || token.length === 0) {
        throw new SwitchboardError('UNAUTHORIZED', 'No token: options.token must be a JWT string or a function returning one.');
      }
      if (!SUBPROTOCOL_CHARS.test(token)) {
        throw new SwitchboardError('UNAUTHORIZED', 'The token is not a JWT: it has characters a WebSocket subprotocol cannot carry.');
      }
      return { token, source: 'app', fresh: false };
    }
    if (this.guestToken !== null) return { token: this.guestToken, source: 'guest', fresh: false };
    this.guestToken = await this.fetchGuestToken();
    return { token: this.guestToken, source: 'guest', fresh: true };
  }

  /** Forget the cached guest token (the server refused it or it expired). */
  invalidateGuest(): void {
    this.guestToken = null;
  }

  private async fetchGuestToken(): Promise<string> {
    let response: Response;
    let body: string;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), this.options.timeoutMs);
    try {
      response = await this.options.fetch(`${this.options.http}${GUEST_PATH}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(this.options.name === undefined ? {} : { name: this.options.name }),
        signal: controller.signal,
      });
      body = await response.text();
    } catch (cause) {
      throw new SwitchboardError('SERVER_UNAVAILABLE', `Could not reach ${this.options.http}${GUEST_PATH}: ${errorText(cause)}`, { cause });
    } finally {
      clearTimeout(timer);
    }
    if (!response.ok) {
      const error = httpError(response.status, body, 'Could not get a guest token');
      if (error && isFinalStatus(response.status)) throw error;
      // Retry later (the session treats this code as retryable), keeping what the server said.
      throw new SwitchboardError('SERVER_UNAVAILABLE', error?.message ?? `Could not get a guest token (HTTP ${response.status}).`);
    }
    const parsed = parseJson(body);
    if (!isGuestAnswer(parsed)) throw new SwitchboardError('INTERNAL', `The guest endpoint answered without a token.`);
    return parsed.token;
  }
}

/**
 * Browsers hide the HTTP status of a refused WebSocket upgrade, so after a
 * socket fails before opening, ask `GET /v1/session` with the same token why.
 * Returns the answer, or null when the server could not be reached.
 */
export async function probeSession(fetchFn: typeof fetch, http: string, token: string, timeoutMs: number): Promise<{ status: number; body: string } | null> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const response = await fetchFn(`${http}${SESSION_PATH}`, {
      headers: { authorization: `Bearer ${token}` },
      signal: controller.signal,
    });
    return { status: response.status, body: await response.text() };
  } catch {
    return null;
  } finally {
    clearTimeout(timer);
  }
}

/** A refusal worth retrying: 408, 429 (too many connections), 5xx. Other 4xx are final. */
export function isFinalStatus(status: number): boolean {
  return status >= 400 && status < 500 && status !== 408 && status !== 429;
}

/** The error an HTTP refusal (status ≥ 400) stands for, from its `{code, message}` body. */
export function httpError(status: number, body: string, context: string): SwitchboardError | null {
  if (status < 400) return null;
  const parsed = parseJson(body);
  const nested = parsed?.['error'];
  const source = typeof nested === 'object' && nested !== null ? (nested as Record<string, unknown>) : parsed;
  const rawCode = source?.['code'];
  const rawMessage = source?.['message'];
  const code: ErrorCode = isErrorCode(rawCode) ? rawCode : fallbackCode(status);
  const detail = typeof rawMessage === 'string' && rawMessage.length > 0 ? rawMessage : defaultMessage(code, status);
  return new SwitchboardError(code, `${context}: ${detail}`, { details: { status } });
}

/** From a 200 `GET /v1/session`: the user is at the connection limit (the upgrade got a 429 we could not see). */
export function sessionAtLimit(body: string): SwitchboardError | null {
  const parsed = parseJson(body);
  if (!isSessionAnswer(parsed)) return null;
  const { open, max } = parsed.connections;
  if (open < max) return null;
  return new SwitchboardError('TOO_MANY_CONNECTIONS', `The server refused the connection: this user already has ${open} of ${max} connections open.`);
}

function fallbackCode(status: number): ErrorCode {
  if (status === 401) return 'UNAUTHORIZED';
  if (status === 403) return 'FORBIDDEN';
  if (status === 429) return 'RATE_LIMITED';
  if (status >= 500) return 'SERVER_UNAVAILABLE';
  return 'INVALID_REQUEST';
}

function defaultMessage(code: ErrorCode, status: number): string {
  if (code === 'TOKEN_EXPIRED') return 'the token has expired (HTTP 401).';
  if (code === 'UNAUTHORIZED') return 'the server rejected the token (HTTP 401).';
  return `HTTP ${status}.`;
}

function parseJson(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return isJsonObject(value) ? value : null;
  } catch {
    return null;
  }
}

export function errorText(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}
