/**
 * One real server per test file and pairs of Node peers in a fresh group each, closed after
 * every test together with every peer connection (the suites assert none is left open).
 */
import { afterAll, afterEach, beforeAll } from 'vitest';
import { livePeerConnections } from '../src/node/index.js';
import { NodePeer } from './node-harness.js';
import { startServer, until, type TestServer } from './server.js';

export type MakePeer = (server: TestServer, side: 'a' | 'b', n: number) => Promise<NodePeer>;

/** Registers the hooks; the returned `pair()` gives two peers connected and joined to a new group. */
export function useNodePairs(prefix: string, makePeer: MakePeer): () => Promise<[NodePeer, NodePeer]> {
  let server: TestServer;
  const peers: NodePeer[] = [];
  let group = 0;
  beforeAll(async () => {
    server = await startServer({ guests: true });
  });
  afterEach(async () => {
    await Promise.all(peers.splice(0).map((p) => p.close()));
    await until(() => livePeerConnections() === 0, 5_000, 'every peer connection closed');
  });
  afterAll(() => server.close());
  return async () => {
    const n = ++group;
    const a = await makePeer(server, 'a', n);
    const b = await makePeer(server, 'b', n);
    peers.push(a, b);
    await a.connect(`${prefix}-${n}`);
    await b.connect(`${prefix}-${n}`);
    return [a, b];
  };
}
