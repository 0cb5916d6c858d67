// A Node peer in its own process, for node-exit.test.ts: connects (built dist), answers one
// call, echoes what arrives on `default`, and on rtc:closed closes its realtime connection.
// It never calls process.exit: the process must end by itself once nothing is left open.
import { Switchboard } from '../dist/node/index.js';

const [url, token, group] = process.argv.slice(2);
const sb = new Switchboard({ url, token, node: { bindAddress: '127.0.0.1' } });
const say = (line) => process.stdout.write(`${JSON.stringify(line)}\n`);

await sb.connectRealtime(async (event) => {
  if (event.type === 'rtc:incoming') {
    const resolved = await event.connectRTC({}, (e) => {
      if (e.type === 'message') e.target.send(`echo:${e.data}`);
    });
    say({ accepted: resolved?.call ?? null });
  }
  if (event.type === 'rtc:closed') {
    say({ closed: event.message.reason });
    await sb.closeRealtime();
    say({ realtimeClosed: true });
  }
});
await sb.joinRealtime({ group });
say({ cid: sb.cid });
