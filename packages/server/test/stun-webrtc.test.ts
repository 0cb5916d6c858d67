/**
 * A real WebRTC stack (node-datachannel / libjuice, in a child process: fixtures/gather-srflx.mjs)
 * configured with nothing but the server's own stun: URL gathers a server-reflexive candidate
 * through it.
 *
 * Without NAT the reflexive address equals the host address and ICE stacks drop it as
 * redundant, so a tiny one-mapping UDP NAT sits in between: the peer sends to the NAT on
 * 127.0.0.1, the NAT forwards from its own socket on 127.0.0.2. The server then sees
 * 127.0.0.2:<NAT port>, and that is what the srflx candidate must carry.
 */
import { execFile } from 'node:child_process';
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { startServer, useCleanup } from './helpers.js';

useCleanup();

const GATHER = fileURLToPath(new URL('./fixtures/gather-srflx.mjs', import.meta.url));

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
    try {
      // The answer line is what counts, even if the native side crashes the child on its way out.
      const stdout = await promisify(execFile)(process.execPath, [GATHER, `stun:127.0.0.1:${nat.port}`, '127.0.0.1'], { timeout: 20_000 }).then(
        (done) => done.stdout,
        (err: { stdout?: string; message: string }) => err.stdout || err.message,
      );
      expect(stdout).toMatch(/^\{/);
      const reply = JSON.parse(stdout) as { srflx?: string; error?: string };
      expect(reply.error).toBeUndefined();
      const mapped = nat.outside();
      expect(mapped).not.toBeNull();
      // candidate:<foundation> <component> UDP <priority> <address> <port> typ srflx … (libjuice hides raddr: 0.0.0.0)
      const [, address, port] = / (\S+) (\d+) typ srflx/.exec(reply.srflx!) ?? [];
      expect({ address, port: Number(port) }).toEqual({ address: '127.0.0.2', port: mapped!.port });
    } finally {
      nat.close();
    }
  });
});
