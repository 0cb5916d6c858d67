/**
 * The public class is exactly the documented API. The type-level pin is surface/public-surface.test-d.ts,
 * type-checked here by tsc; the runtime half checks what an app can reach without types.
 */
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { Switchboard } from '../src/index.js';
import { Switchboard as NodeSwitchboard } from '../src/node/index.js';

const PUBLIC = [
  'closeRTC',
  'closeRealtime',
  'cid',
  'connectRTC',
  'connectRealtime',
  'connectionState',
  'getRealtimeGroups',
  'getRealtimeUsers',
  'joinRealtime',
  'postRealtime',
  'subscribeNotification',
  'unsubscribeNotification',
  'user',
  'vapidPublicKey',
].sort();

/** Every name an app reaches on an instance: own properties and those of the prototype chain up to Object. */
function reachable(value: object): string[] {
  const names = new Set<string>(Object.keys(value));
  for (let proto = Object.getPrototypeOf(value); proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    for (const name of Object.getOwnPropertyNames(proto)) if (name !== 'constructor') names.add(name);
  }
  return [...names].sort();
}

describe('public surface', () => {
  it('the type of Switchboard (browser and Node entries) has exactly the documented members', async () => {
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    const project = fileURLToPath(new URL('./surface/tsconfig.json', import.meta.url));
    const output = await new Promise<string>((resolve) => {
      execFile(process.execPath, [tsc, '--noEmit', '-p', project], (error, stdout, stderr) => resolve(error ? `${stdout}${stderr}` || String(error) : ''));
    });
    expect(output).toBe('');
  }, 60_000);

  it('an instance reaches exactly the documented members at runtime', () => {
    const platform = {
      fetch: globalThis.fetch,
      WebSocket: class {} as never,
      RTCPeerConnection: undefined,
      getUserMedia: undefined,
      isSecureContext: () => true,
      kind: 'node' as const,
    };
    expect(reachable(new Switchboard({ url: 'http://127.0.0.1:1' }, platform))).toEqual(PUBLIC);
    expect(reachable(new NodeSwitchboard({ url: 'http://127.0.0.1:1' }, platform))).toEqual(PUBLIC);
    expect(Object.getOwnPropertyNames(Switchboard).filter((name) => !['length', 'name', 'prototype'].includes(name))).toEqual([]);
  });
});
