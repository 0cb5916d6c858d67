// Entry of /switchboard-transfer.js, the file-transfer add-on for the <script> build: load it after
// /switchboard.js; it adds sendFile, receiveFiles, files, FILE_TRANSFER_CHANNEL, ... to the global
// `Switchboard`. Its SwitchboardError is the global's (the build maps the protocol to it).
import * as transfer from '../src/transfer/index.ts';

const global = globalThis.Switchboard;
if (typeof global !== 'function') throw new Error('Load /switchboard.js before /switchboard-transfer.js.');
for (const [name, value] of Object.entries(transfer)) {
  if (!Object.hasOwn(global, name)) Object.defineProperty(global, name, { value, enumerable: true });
}
