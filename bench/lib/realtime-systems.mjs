/**
 * What bench/realtime.mjs compares and where it all runs. Shared by the entry, the server
 * children, the client adapters and the report, so none of them has to import another for it.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: children start there, the docs and node_modules are found from it. */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** Loopback only: load tests never touch another host. */
export const HOST = '127.0.0.1';

/** Per system: its table label, the server child it talks to, and the scenarios it can take part in. */
export const SYSTEMS = {
  switchboard: {
    label: 'Switchboard (wire, `ws` client)',
    server: 'switchboard',
    scenarios: ['memory', 'fanout', 'dm', 'signal', 'light-signal', 'light-dm'],
  },
  sdk: { label: 'Switchboard (Node SDK client)', server: 'switchboard', scenarios: ['fanout', 'dm'] },
  ws: { label: 'raw `ws` (floor)', server: 'ws', scenarios: ['memory', 'fanout', 'dm', 'signal', 'light-signal', 'light-dm'] },
  socketio: { label: 'Socket.IO', server: 'socketio', scenarios: ['memory', 'fanout', 'dm', 'signal', 'light-signal', 'light-dm'] },
  peerjs: { label: 'PeerJS server', server: 'peerjs', scenarios: ['memory', 'signal', 'light-signal'] },
};
