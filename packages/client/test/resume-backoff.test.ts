/**
 * While a session can be resumed, reconnect delays stay under RESUMABLE_MAX_DELAY_MS: an
 * exponential delay could otherwise outlast the server's resume window (30 s by default).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Switchboard } from '../src/switchboard.js';
import { RESUMABLE_MAX_DELAY_MS } from '../src/transport/backoff.js';
import { closeFakeClients, FakeSocket, fakePlatform } from './fake-socket.js';

afterEach(closeFakeClients);

async function delaysAfterDrop(resumeToken: string): Promise<number[]> {
  FakeSocket.reset();
  const delays: number[] = [];
  // Ceilings 1.5, 3, 6, 12, 24 s without the cap: five delays all under 2 s by chance is ~0.3 %.
  const sb = new Switchboard({ url: 'http://fake.test', token: 'jwt', reconnect: { baseDelayMs: 1_500, maxDelayMs: 600_000 } }, fakePlatform());
  const connected = sb.connectRealtime((e) => {
    if (e.type === 'reconnect' && 'delayMs' in e && typeof e.delayMs === 'number') delays.push(e.delayMs);
  });
  const first = await FakeSocket.nth(0);
  first.welcome('cid:one', { resume: resumeToken });
  await connected;
  first.drop(1006);
  // Attempts 1–5 fail before a welcome; the delays before each are what the session chose.
  for (let n = 1; n <= 5; n++) (await FakeSocket.nth(n, 10_000)).drop(1006);
  await sb.closeRealtime();
  return delays;
}

describe('reconnect delays while resumable', () => {
  it(`stay under ${RESUMABLE_MAX_DELAY_MS} ms with a resume token, whatever the policy's ceiling`, async () => {
    const delays = await delaysAfterDrop('token-1');
    expect(delays.length).toBeGreaterThanOrEqual(5);
    expect(Math.max(...delays)).toBeLessThan(RESUMABLE_MAX_DELAY_MS);
  }, 30_000);
});
