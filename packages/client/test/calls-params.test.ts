/** The call state machine (fakes, see calls-fakes.ts): connectRTC's parameters and closeRTC, with Skapi's messages. */
import { describe, expect, it } from 'vitest';
import { FakeClient, FakeServer, FakeStream, FakeTrack, until } from './calls-fakes.js';
import { pair, incoming, connectedPair } from './calls-pairs.js';

describe('calls: parameters (Skapi messages)', () => {
  it('validates connectRTC', async () => {
    const { a, b } = pair();
    const cb = (): void => undefined;
    await expect(a.layer.connectRTC({ cid: b.cid }, undefined as never)).rejects.toMatchObject({ code: 'INVALID_PARAMETER', message: 'Callback is required.' });
    await expect(a.layer.connectRTC({} as never, cb)).rejects.toMatchObject({ code: 'INVALID_PARAMETER', message: 'Key "cid" is required.' });
    await expect(a.layer.connectRTC({ cid: 5 } as never, cb)).rejects.toMatchObject({ message: '"cid" should be type: <string>.' });
    await expect(a.layer.connectRTC({ cid: 'bbb' }, cb)).rejects.toMatchObject({ message: '"cid" should be a valid connection id.' });
    await expect(a.layer.connectRTC({ cid: b.cid, channels: ['chat' as never] }, cb)).rejects.toMatchObject({ code: 'INVALID_PARAMETER' });
    await expect(a.layer.connectRTC({ cid: b.cid, channels: [42 as never] }, cb)).rejects.toMatchObject({ code: 'INVALID_PARAMETER' });
    await expect(a.layer.connectRTC({ cid: b.cid, channels: ['gaming', 'gaming'] }, cb)).rejects.toMatchObject({
      code: 'INVALID_REQUEST',
      message: 'Data channel with the protocol "gaming" already exists.',
    });
    await expect(a.layer.connectRTC({ cid: b.cid, ice: 'http://x' }, cb)).rejects.toMatchObject({ code: 'INVALID_PARAMETER' });
    await expect(a.layer.connectRTC({ cid: b.cid, iceTransportPolicy: 'none' as never }, cb)).rejects.toMatchObject({ code: 'INVALID_PARAMETER' });
    a.connected = false;
    await expect(a.layer.connectRTC({ cid: b.cid }, cb)).rejects.toMatchObject({
      code: 'INVALID_REQUEST',
      message: 'No realtime connection. Execute connectRealtime() before this method.',
    });
    await expect(a.layer.closeRTC({})).rejects.toMatchObject({ code: 'INVALID_PARAMETER', message: '"cid" is required.' });
  });

  it('media: insecure context, no getUserMedia, {audio:false, video:false}, app stream used as given', async () => {
    const server = new FakeServer();
    const insecure = new FakeClient(server, 'cid:i', 'u-i', { secure: false });
    const nomedia = new FakeClient(server, 'cid:n', 'u-n', { getUserMedia: false });
    const b = new FakeClient(server, 'cid:z', 'u-z');
    const cb = (): void => undefined;
    await expect(insecure.layer.connectRTC({ cid: b.cid, media: { video: true } }, cb)).rejects.toMatchObject({
      code: 'INVALID_REQUEST',
      message: 'Media stream is only supported on either localhost or https.',
    });
    await expect(nomedia.layer.connectRTC({ cid: b.cid, media: { audio: true } }, cb)).rejects.toMatchObject({
      code: 'NOT_SUPPORTED',
      message: expect.stringContaining('data channels work'),
    });
    // No media asked: fine everywhere.
    const quiet = await nomedia.layer.connectRTC({ cid: b.cid, media: { audio: false, video: false } }, cb);
    const rt = await incoming(b);
    expect(rt.media).toEqual({ audio: false, video: false });
    const own = new FakeStream([new FakeTrack('video')]);
    const rb = (await rt.connectRTC({ media: own as never }, cb))!;
    expect(rb.media).toBe(own);
    const ra = await quiet.connection;
    expect(ra.media).toBeNull();
    rb.hangup();
    await until(() => b.of('rtc:closed').length === 1);
    expect(own.tracks[0]!.readyState).toBe('live'); // the app's own tracks are never stopped by the SDK
  });

  it('closeRTC({close_all}) ends every call', async () => {
    const { a, b } = await connectedPair();
    await a.layer.closeRTC({ close_all: true });
    expect(a.of('rtc:closed')).toHaveLength(1);
    await until(() => b.of('rtc:closed').length === 1);
  });
});
