/**
 * A real WebRTC stack (node-datachannel / libjuice) configured with nothing but the server's
 * own stun: URL gathers a server-reflexive candidate through it.
 *
 * Without NAT the reflexive address equals the host address and ICE stacks drop it as
 * redundant, so a tiny one-mapping UDP NAT sits in between: the peer sends to the NAT on
 * 127.0.0.1, the NAT forwards from its own socket on 127.0.0.2. The server then sees
 * 127.0.0.2:<NAT port>, and that is what the srflx candidate must carry.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import type * as Ndc from 'node-datachannel';
import { afterAll, describe, expect, it } from 'vitest';
import { startServer, useCleanup } from './helpers.js';

useCleanup();

const ndc = (await import('node-datachannel')) as typeof Ndc;
afterAll(() => ndc.cleanup());

interface Nat {
  port: number;
  /** The NAT's public side as the STUN server sees it. */
  outside: () => { address: string; port: number } | null;
  close(): void;
}

async function udpNat(target: number): Promise<Nat> {
  const inside = createSocket('udp4');
  await new Promise<void>((resolve) => inside.bind(0, '127.0.0.1', resolve));
  let outside: Socket | null = null;
  let peer: RemoteInfo | null = null;
  inside.on('message', (msg, rinfo) => {
    peer = rinfo;
    if (!outside) {
      const socket = createSocket('udp4');
      outside = socket;
      socket.on('message', (reply) => peer && inside.send(reply, peer.port, peer.address));
      socket.bind(0, '127.0.0.2', () => socket.send(msg, target, '127.0.0.1'));
      return;
    }
    outside.send(msg, target, '127.0.0.1');
  });
  return {
    port: inside.address().port,
    outside: () => (outside ? outside.address() : null),
    close() {
      inside.close();
      (outside as Socket | null)?.close();
    },
  };
}

describe('STUN with a real WebRTC stack', () => {
  it("node-datachannel with only the server's stun: URL gathers a srflx candidate carrying the address the server saw", async () => {
    const t = await startServer({ stun: { enabled: true } });
    const client = await t.connect('alice');
    const own = ((await client.welcome).iceServers as { urls: string[] }[])[0]!.urls[0]!;
    expect(own).toBe(`stun:127.0.0.1:${t.address.stunPort}`);

    const nat = await udpNat(t.address.stunPort!);
    const pc = new ndc.PeerConnection('stun-proof', { iceServers: [`stun:127.0.0.1:${nat.port}`], bindAddress: '127.0.0.1' });
    try {
      const srflx = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no srflx candidate within 10 s')), 10_000);
        pc.onLocalCandidate((candidate) => {
          if (/ typ srflx /.test(candidate)) {
            clearTimeout(timer);
            resolve(candidate);
          }
        });
        pc.createDataChannel('probe');
        pc.setLocalDescription();
      });
      const mapped = nat.outside();
      expect(mapped).not.toBeNull();
      // candidate:<foundation> <component> UDP <priority> <address> <port> typ srflx … (libjuice hides raddr: 0.0.0.0)
      const [, address, port] = / (\S+) (\d+) typ srflx/.exec(candidate(srflx)) ?? [];
      expect({ address, port: Number(port) }).toEqual({ address: '127.0.0.2', port: mapped!.port });
    } finally {
      await closeSettled(pc);
      nat.close();
    }
  });
});

const candidate = (c: string) => (c.startsWith('a=') ? c.slice(2) : c);

/**
 * Closes `pc`, waits until it reports `closed` (at most 2 s), then a moment more for the native
 * callbacks on their way: node-datachannel's cleanup() in afterAll right after a close took the
 * test worker down once (the Node SDK waits too before its cleanup, client/src/node/lifecycle.ts).
 */
async function closeSettled(pc: Ndc.PeerConnection): Promise<void> {
  const closed = new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 2_000);
    pc.onStateChange((state) => {
      if (state !== 'closed') return;
      clearTimeout(timer);
      resolve();
    });
  });
  pc.close();
  await closed;
  await new Promise((resolve) => setTimeout(resolve, 250));
}
