/**
 * The callee rings before the caller's camera is open: connectRTC sends the invite first and
 * opens the media meanwhile. The caller's getUserMedia is held pending here (a camera that is
 * slow to start, or a permission prompt nobody has answered yet). Fakes: see calls-fakes.ts.
 */
import { describe, expect, it } from 'vitest';
import type { FakeClient } from './calls-fakes.js';
import { FakePC, FakeStream, FakeTrack, until } from './calls-fakes.js';
import { incoming, pair, recorder } from './calls-pairs.js';

/** a's getUserMedia waits until the test opens (or fails) the camera. */
function holdCamera(client: FakeClient): { asked: () => boolean; open(): FakeStream; fail(error: Error): void } {
  let settle: { resolve: (s: FakeStream) => void; reject: (e: Error) => void } | null = null;
  (client.platform as { getUserMedia: unknown }).getUserMedia = () => new Promise((resolve, reject) => (settle = { resolve, reject }));
  return {
    asked: () => settle !== null,
    open() {
      const stream = new FakeStream([new FakeTrack('video')]);
      settle!.resolve(stream);
      return stream;
    },
    fail: (error) => settle!.reject(error),
  };
}

describe('calls: the callee rings while the caller opens its camera', () => {
  it('rtc:incoming arrives while getUserMedia is pending; an accept meanwhile connects once the camera is open', async () => {
    const { a, b } = pair();
    const camera = holdCamera(a);
    const ca = recorder();
    let placed = false;
    const pending = a.layer.connectRTC({ cid: b.cid, media: { video: true } }, ca.cb).then((connector) => ((placed = true), connector));
    const rt = await incoming(b);
    expect(camera.asked()).toBe(true);
    expect(placed).toBe(false); // connectRTC still waits for the camera
    expect(rt.media).toEqual({ audio: false, video: true }); // what the caller asked for
    const pcsBefore = FakePC.all.length;
    const rb = (await rt.connectRTC(undefined, recorder().cb))!;
    await new Promise((resolve) => setTimeout(resolve, 20)); // the accept reaches the caller
    expect(FakePC.all.length).toBe(pcsBefore + 1); // the callee's only: the caller waits for its media
    const stream = camera.open();
    const connector = await pending;
    const ra = await connector.connection;
    expect(ra.call).toBe(rb.call);
    expect(ra.media).toBe(stream);
    await until(() => ca.events.some((e) => e.type === 'open' && e.label === 'default'));
    expect((ra.target as unknown as FakePC).senders.map((s) => s.track)).toEqual(stream.tracks); // the camera's track went into the call
  });

  it('a camera that fails after the invite cancels the ringing call; connectRTC rejects with the error', async () => {
    const { a, b } = pair();
    const camera = holdCamera(a);
    const pending = a.layer.connectRTC({ cid: b.cid, media: { video: true } }, () => undefined);
    const rt = await incoming(b);
    camera.fail(Object.assign(new Error('Permission denied'), { name: 'NotAllowedError' }));
    await expect(pending).rejects.toThrow('Permission denied');
    await until(() => b.of('rtc:closed').length === 1);
    expect(b.of('rtc:closed')[0]!.message).toMatchObject({ reason: 'cancelled', call: rt.call });
    expect(a.of('rtc:closed')).toHaveLength(0); // the caller's app heard it from connectRTC
    expect(await rt.connectRTC(undefined, () => undefined)).toBeNull();
    expect((a.layer as unknown as { active: unknown[] }).active).toHaveLength(0);
  });

  it('hanging up while the camera opens stops the ringing, and the camera is released once open', async () => {
    const { a, b } = pair();
    const camera = holdCamera(a);
    const pending = a.layer.connectRTC({ cid: b.cid, media: { video: true } }, () => undefined);
    await incoming(b);
    await a.layer.closeRTC({ cid: b.cid });
    await until(() => b.of('rtc:closed').length === 1);
    expect(b.of('rtc:closed')[0]!.message).toMatchObject({ reason: 'cancelled' });
    const stream = camera.open();
    const connector = await pending;
    await expect(connector.connection).rejects.toMatchObject({ code: 'RTC_CANCELLED' });
    expect(stream.tracks.every((t) => t.readyState === 'ended')).toBe(true);
  });
});
