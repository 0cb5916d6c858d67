#!/usr/bin/env node
// A tiny round-robin TCP load balancer for the cluster tests (no stickiness, no health checks):
// each new connection goes to the next backend; a backend that refuses is skipped for that
// connection (the next one is tried), which is how a dead node drops out.
//   node tcp-lb.mjs --port 0 --backend 127.0.0.1:8001 --backend 127.0.0.1:8002 ...
// Prints "listening <port>" once ready and "conn <n> -> <backend>" for every connection.
import { createServer, connect } from 'node:net';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: { port: { type: 'string', default: '0' }, host: { type: 'string', default: '127.0.0.1' }, backend: { type: 'string', multiple: true } },
});
const backends = (values.backend ?? []).map((b) => {
  const at = b.lastIndexOf(':');
  return { host: b.slice(0, at), port: Number(b.slice(at + 1)), label: b };
});
if (backends.length === 0) throw new Error('at least one --backend host:port');

let next = 0;
let count = 0;

function open(client, n, tried) {
  if (tried >= backends.length) {
    console.log(`conn ${n} -> none (every backend refused)`);
    client.destroy();
    return;
  }
  const backend = backends[next++ % backends.length];
  const upstream = connect({ host: backend.host, port: backend.port });
  let connected = false;
  upstream.on('error', () => {
    if (connected) client.destroy();
    else open(client, n, tried + 1); // refused: try the next backend
  });
  upstream.once('connect', () => {
    connected = true;
    console.log(`conn ${n} -> ${backend.label}`);
    client.on('error', () => upstream.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.pipe(upstream);
    upstream.pipe(client);
    client.resume();
  });
}

const server = createServer({ pauseOnConnect: true }, (client) => {
  client.on('error', () => undefined);
  open(client, ++count, 0);
});
server.listen(Number(values.port), values.host, () => console.log(`listening ${server.address().port}`));
process.on('SIGTERM', () => process.exit(0));
