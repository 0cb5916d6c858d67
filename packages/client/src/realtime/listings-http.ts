import { GROUPS_PATH, SwitchboardError, USERS_PATH } from '@switchboard/protocol';
import { errorText, httpError, type TokenSource } from '../session/auth.js';

export interface ListingHttp {
  http: string;
  tokens: TokenSource;
  fetch: typeof fetch;
  timeoutMs: number;
}

/**
 * A listing over HTTP with the token (no realtime connection needed, as Skapi's
 * getRealtimeUsers/getRealtimeGroups): POST /v1/users or /v1/groups with the frame's fields.
 */
export async function listOverHttp(options: ListingHttp, type: 'list_users' | 'list_groups', body: object): Promise<unknown> {
  const url = `${options.http}${type === 'list_users' ? USERS_PATH : GROUPS_PATH}`;
  for (let attempt = 0; ; attempt++) {
    const credential = await options.tokens.get();
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), options.timeoutMs);
    let status: number;
    let text: string;
    try {
      const response = await options.fetch(url, {
        method: 'POST',
        headers: { authorization: `Bearer ${credential.token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
        signal: controller.signal,
      });
      status = response.status;
      text = await response.text();
    } catch (cause) {
      throw new SwitchboardError('SERVER_UNAVAILABLE', `Could not reach ${url}: ${errorText(cause)}`, { cause });
    } finally {
      clearTimeout(timer);
    }
    // A cached guest token the server no longer takes: fetch a fresh one, once.
    if (status === 401 && credential.source === 'guest' && !credential.fresh && attempt === 0) {
      options.tokens.invalidateGuest();
      continue;
    }
    const error = httpError(status, text, 'The listing failed');
    if (error) throw new SwitchboardError(error.code, error.message.replace(/^The listing failed: /, ''), { details: error.details });
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new SwitchboardError('INTERNAL', `${url} answered with something other than JSON.`);
    }
  }
}
