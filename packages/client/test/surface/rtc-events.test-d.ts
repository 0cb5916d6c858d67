/** The RTC callback's event is a union discriminated by `type` (checked by tsc in public-surface.test.ts). */
import { expectTypeOf } from 'vitest';
import type { RTCCallback, RTCEvent } from '../../src/index.js';

const cb: RTCCallback = (e) => {
  if (e.type === 'track') {
    expectTypeOf(e.streams).toEqualTypeOf<readonly MediaStream[]>();
    expectTypeOf(e.target).toEqualTypeOf<RTCPeerConnection>();
  }
  if (e.type === 'message') {
    expectTypeOf(e.label).toBeString();
    expectTypeOf(e.target).toEqualTypeOf<RTCDataChannel>();
    expectTypeOf(e).toHaveProperty('data');
  }
  if (e.type === 'connectionstatechange') expectTypeOf(e.state).toEqualTypeOf<RTCPeerConnectionState>();
  if (e.type === 'icecandidate') expectTypeOf(e.candidate).toBeString();
  if (e.type === 'negotiationneeded') expectTypeOf(e).not.toHaveProperty('state');
  // @ts-expect-error a field of another event is not there without narrowing
  void e.streams;
};
void cb;

expectTypeOf<RTCEvent['type']>().toEqualTypeOf<
  | 'track'
  | 'icecandidate'
  | 'icecandidateend'
  | 'icecandidateerror'
  | 'iceconnectionstatechange'
  | 'icegatheringstatechange'
  | 'signalingstatechange'
  | 'negotiationneeded'
  | 'connectionstatechange'
  | 'open'
  | 'message'
  | 'close'
  | 'bufferedamountlow'
  | 'error'
>();
