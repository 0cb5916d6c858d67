// Entry of the <script> build. Skapi pages do `const skapi = new Skapi(...)`; here the global
// `Switchboard` is the class itself, so the one changed line is `new Switchboard({ url })`.
// Every other export hangs off it (Switchboard.SwitchboardError, Switchboard.sendFile, ...),
// and Switchboard.Switchboard works for code written against the module's names.
import * as sdk from '../src/index.ts';

const global = sdk.Switchboard;
for (const [name, value] of Object.entries(sdk)) {
  // Skip what a class already owns (name, length, prototype).
  if (!Object.hasOwn(global, name)) Object.defineProperty(global, name, { value, enumerable: true });
}
globalThis.Switchboard = global;
