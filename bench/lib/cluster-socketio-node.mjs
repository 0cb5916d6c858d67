/**
 * One Socket.IO node for bench/cluster.mjs: rooms joined with an ack, `post` broadcast to the
 * room and acked (as Switchboard acks a post). With BENCH_REDIS_URL, nodes share rooms through
 * @socket.io/redis-adapter (one publish per broadcast, every node subscribed). Prints
 * `listening <port>`; stops on SIGTERM or when its parent goes away.
 */
import { createServer } from 'node:http';
import { Server } from 'socket.io';

const http = createServer();
const io = new Server(http, { serveClient: false, transports: ['websocket'] });
const redisUrl = process.env.BENCH_REDIS_URL;
let clients = [];
if (redisUrl) {
  const { Redis } = await import('ioredis');
  const { createAdapter } = await import('@socket.io/redis-adapter');
  const pub = new Redis(redisUrl);
  const sub = pub.duplicate();
  clients = [pub, sub];
  io.adapter(createAdapter(pub, sub));
}
io.on('connection', (socket) => {
  socket.on('join', (room, ack) => {
    socket.join(room);
    if (typeof ack === 'function') ack();
  });
  socket.on('post', (room, message, ack) => {
    io.to(room).emit('message', message);
    if (typeof ack === 'function') ack({ delivered: true });
  });
});
http.listen(0, '127.0.0.1', () => console.log(`listening ${http.address().port}`));
const quit = () => {
  for (const c of clients) c.disconnect();
  process.exit(0);
};
process.on('SIGTERM', quit);
setInterval(() => {
  if (process.ppid === 1) quit();
}, 1000).unref();
