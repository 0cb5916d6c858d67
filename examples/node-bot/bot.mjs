// A Switchboard bot in Node: joins a group, answers every call, echoes text on the `default`
// channel and, for every file sent to it on the `file-transfer` channel (sendFile), replies with
// its size and SHA-256. Run: SWITCHBOARD_URL=http://127.0.0.1:8443 node examples/node-bot/bot.mjs
import { Switchboard, receiveFiles } from '@switchboard/client/node';

const env = process.env;
const url = env.SWITCHBOARD_URL ?? 'https://localhost:8443';
const group = env.BOT_GROUP ?? 'lobby';
const log = (line) => console.log(JSON.stringify({ at: new Date().toISOString(), ...line }));

const sb = new Switchboard({
  url,
  token: env.SWITCHBOARD_TOKEN, // a JWT from your backend; without one the bot joins as a guest
  name: env.BOT_NAME ?? 'echo-bot',
  node: env.BIND_ADDRESS ? { bindAddress: env.BIND_ADDRESS } : {},
});

/** Accepts a call and serves it until it ends. */
async function answer(incoming) {
  log({ incoming: incoming.call, from: incoming.sender_name ?? incoming.sender });
  const watched = new Set();
  let call = null;
  const reply = (text) => {
    const channel = call?.channels.default;
    if (channel?.readyState === 'open') channel.send(text);
  };
  const watchFiles = (channel) => {
    if (watched.has(channel)) return;
    watched.add(channel);
    receiveFiles(channel, {
      onFile: ({ name, bytes, sha256 }) => {
        log({ file: name, bytes, sha256 });
        reply(JSON.stringify({ type: 'file', name, bytes, sha256 }));
      },
      onError: (error) => reply(JSON.stringify({ type: 'file-error', message: error.message })),
    });
  };
  call = await incoming.connectRTC({}, (event) => {
    if (event.type === 'open' && event.label === 'file-transfer') watchFiles(event.target);
    if (event.type === 'message' && event.label === 'default' && typeof event.data === 'string') {
      reply(`echo: ${event.data}`);
    }
  });
  if (!call) return; // the caller hung up before we answered
  const files = call.channels['file-transfer'];
  if (files?.readyState === 'open') watchFiles(files);
}

await sb.connectRealtime((event) => {
  if (event.type === 'rtc:incoming') answer(event).catch((error) => log({ error: error.message }));
  else if (event.type === 'rtc:closed') log({ closed: event.message.call, reason: event.message.reason });
  else if (event.type === 'close') log({ realtime: 'closed' });
});
await sb.joinRealtime({ group });
log({ ready: true, cid: sb.cid, user_id: sb.user.user_id, group });

// Ctrl-C / SIGTERM: hang up, leave, close; the process then exits by itself.
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => void sb.closeRealtime());
