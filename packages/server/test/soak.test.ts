/**
 * Soak: hostile frames from 20 connections (random bytes, mutated valid frames, deep nesting,
 * huge numbers, `__proto__` keys, oversized frames; fixtures/soak-attacker.mjs, in its own
 * process) while an honest pair exchanges sequence-numbered messages. Bounded by SOAK_SECONDS
 * (default 20, at most 60); loopback only; stops by itself.
 * The honest pair must lose nothing, the server must never log at error level, and the heap must
 * come back to its baseline once the attackers are gone.
 */
import { spawn } from 'node:child_process';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it, onTestFinished } from 'vitest';
import { WebSocket } from 'ws';
import { createLogger } from '../src/logger.js';
import { join, startServer, useCleanup } from './helpers.js';

useCleanup();

const SECONDS = Math.min(60, Number(process.env['SOAK_SECONDS'] ?? 20));
const ATTACKERS = 20;
const ATTACKER = fileURLToPath(new URL('./fixtures/soak-attacker.mjs', import.meta.url));

setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

/** A log sink that counts lines at error level or above (pino: 50 = error, 60 = fatal). */
function errorCounter(): { stream: Writable; errors: string[] } {
  const errors: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line && (JSON.parse(line) as { level: number }).level >= 50) errors.push(line.slice(0, 500));
      }
      done();
    },
  });
  return { stream, errors };
}

describe('soak', () => {
  it(
    `hostile frames from ${ATTACKERS} connections for ${SECONDS} s: the honest pair loses nothing, no error logs, heap back to baseline`,
    async () => {
      const logs = errorCounter();
      const t = await startServer({ logLevel: 'info' }, { logger: createLogger('info', logs.stream) });
      const sender = await t.connect('honest-sender');
      const receiver = await t.connect('honest-receiver');
      await join(sender, 'room');
      await join(receiver, 'room');
      const receiverCid = (await receiver.welcome)['cid'] as string;

      collectGarbage();
      const baseline = process.memoryUsage().heapUsed;

      const until = Date.now() + SECONDS * 1000;
      const tokens = await Promise.all(Array.from({ length: 10 }, (_, i) => t.token(`attacker-${i}`)));
      const child = spawn(process.execPath, [ATTACKER, t.wsUrl, tokens.join(','), receiverCid, String(SECONDS), process.env['SOAK_SEED'] ?? '7'], {
        env: { ...process.env, SOAK_ATTACKERS: String(ATTACKERS) },
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const attackers = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      onTestFinished(() => {
        child.kill('SIGKILL');
      });

      // The honest pair: each side posts 20 numbered group messages per second, each acked before the next.
      const honest = async (side: typeof sender): Promise<{ acked: number; refused: number }> => {
        let acked = 0;
        let refused = 0;
        while (Date.now() < until) {
          const reply = await side.request({ type: 'post', to: 'room', message: { seq: acked } }, 5000);
          if (reply.type === 'ack') acked += 1;
          else refused += 1;
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        return { acked, refused };
      };
      const [fromSender, fromReceiver] = await Promise.all([honest(sender), honest(receiver)]);
      await attackers;
      const stats = JSON.parse(output) as { frames: number; closes: number; codes: Record<string, number> };
      await receiver.sync();
      await sender.sync();

      const seqs = (side: typeof sender, from: string) => side.all((f) => f.type === 'message' && f['sender'] === from).map((f) => f['message'].seq as number);
      const received = seqs(receiver, 'honest-sender');
      const receivedBack = seqs(sender, 'honest-receiver');
      collectGarbage();
      await new Promise((resolve) => setTimeout(resolve, 200)); // let closed sockets' cleanup run
      collectGarbage();
      const after = process.memoryUsage().heapUsed;
      console.log(
        `soak ${SECONDS}s: ${stats.frames} hostile frames, ${stats.closes} attacker sockets closed by the server, ` +
          `replies ${JSON.stringify(stats.codes)}, honest posts acked ${fromSender.acked} + ${fromReceiver.acked} refused ${fromSender.refused + fromReceiver.refused} ` +
          `received ${received.length} + ${receivedBack.length}, ` +
          `heap ${(baseline / 1e6).toFixed(1)} → ${(after / 1e6).toFixed(1)} MB, error logs ${logs.errors.length}`,
      );

      expect(fromSender.refused + fromReceiver.refused).toBe(0);
      expect(received).toEqual(Array.from({ length: fromSender.acked }, (_, i) => i));
      expect(receivedBack).toEqual(Array.from({ length: fromReceiver.acked }, (_, i) => i));
      expect(logs.errors.slice(0, 3), `${logs.errors.length} error-level log lines`).toEqual([]);
      expect(sender.ws.readyState).toBe(WebSocket.OPEN);
      expect(receiver.ws.readyState).toBe(WebSocket.OPEN);
      expect(after).toBeLessThan(baseline * 1.5 + 8e6);
      expect((await fetch(`${t.url}/healthz`)).status).toBe(200);
    },
    (SECONDS + 60) * 1000,
  );
});
