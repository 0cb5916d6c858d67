import type { SwitchboardError } from '@switchboard/protocol';
import type { Transport } from '../transport/socket.js';
import { httpError, isFinalStatus, probeSession, sessionAtLimit, type Credential } from './auth.js';

export interface Refusal {
  error: SwitchboardError;
  status: number;
  /** Reconnecting would not help (refused credentials, wrong URL). */
  final: boolean;
}

const CONTEXT = 'The server refused the connection';

/**
 * Why a socket failed before its welcome: the upgrade's HTTP answer where the
 * platform can see it (Node), else `GET /v1/session` with the same token
 * (browsers). null: nothing known, treat it as a network problem.
 */
export async function explainFailure(
  transport: Transport,
  opened: boolean,
  credential: Credential | null,
  http: { fetch: typeof fetch; http: string; timeoutMs: number },
): Promise<Refusal | null> {
  const answer = transport.upgradeFailure();
  if (answer) {
    const error = httpError(answer.status, answer.body, CONTEXT);
    return error ? { error, status: answer.status, final: isFinalStatus(answer.status) } : null;
  }
  if (opened || !credential) return null;
  const probe = await probeSession(http.fetch, http.http, credential.token, http.timeoutMs);
  if (!probe) return null;
  if (probe.status < 400) {
    const atLimit = sessionAtLimit(probe.body);
    return atLimit ? { error: atLimit, status: 429, final: false } : null;
  }
  const error = httpError(probe.status, probe.body, CONTEXT);
  // Only the token's verdict is final here; other answers are about /v1/session itself.
  return error ? { error, status: probe.status, final: probe.status === 401 } : null;
}
