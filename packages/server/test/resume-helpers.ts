/** Raw-socket resume helpers: reconnect with `?resume=&lastSeq=` to a chosen node. */
import { LAST_SEQ_PARAM, RESUME_PARAM } from '@switchboard/protocol';
import { TestClient, type Frame, type TestServer } from './helpers.js';

/** The highest seq the client received (0: none). */
export function lastSeqOf(client: TestClient): number {
  return client.frames.reduce((top, f) => (typeof f['seq'] === 'number' && f['seq'] > top ? f['seq'] : top), 0);
}

/** The node after the one that sent `welcome` (itself on a single node): resumes land elsewhere in a cluster. */
export function nextNode(t: TestServer, welcome: Frame): TestServer['nodes'][number] {
  const at = t.nodes.findIndex((n) => n.server.node === welcome['node']);
  return t.nodes[(at + 1) % t.nodes.length]!;
}

/**
 * Opens a socket that asks to resume; await `.welcome` for the answer. Request ids go on from
 * `ids` (a number well past those used before, by default): ids that ran before are dropped.
 */
export async function connectResume(
  t: TestServer,
  node: TestServer['nodes'][number],
  userId: string,
  token: string,
  lastSeq: number,
  firstId = 10_000,
  options: { autoPong?: boolean } = {},
): Promise<TestClient> {
  const query = `${RESUME_PARAM}=${encodeURIComponent(token)}&${LAST_SEQ_PARAM}=${lastSeq}`;
  return TestClient.open(node.address.realtimeUrl, { token: await t.token(userId), query, firstId, ...options });
}
