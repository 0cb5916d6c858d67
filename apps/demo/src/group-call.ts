/**
 * The room's group call: everyone who presses "Join the call" is connected to everyone else
 * (`joinGroupCall` from `@switchboard/client/group`, a full mesh of up to six). Each member's
 * media is arranged by a RemoteMedia, chat and media state (muted, camera off, which stream
 * is a screen) travel over each pair's `default` channel with the CallChannel of 1:1 calls,
 * and the screen is shared with every member (and with those who join later).
 */
import { CallChannel } from './call-channel.js';
import type { ChatPanel } from './chat.js';
import { groupVideoFromUrl } from './config.js';
import { $ } from './dom.js';
import { GroupGrid } from './group-grid.js';
import { ActiveSpeaker, type SpeakerSource } from './group-speaker.js';
import { getLocalMedia, stopStream, type LocalMedia } from './media.js';
import { loadPrefs } from './devices.js';
import { displayName } from './people.js';
import { RemoteMedia } from './remote-media.js';
import { ScreenShare } from './screen-share.js';
import { errorCode, errorMessage, joinGroupCall, type GroupCall, type GroupCallEvent, type GroupPeer, type Switchboard } from './sdk.js';
import type { Stage } from './stage.js';
import { toast } from './toast.js';

interface Member {
  peer: GroupPeer;
  name: string;
  remote: RemoteMedia;
  channel: CallChannel;
  connected: boolean;
}

export interface Me {
  name: string;
  user_id: string;
}

export class GroupCallSession {
  private call: GroupCall | null = null;
  private local: LocalMedia | null = null;
  private readonly members = new Map<string, Member>();
  private readonly grid = new GroupGrid();
  private readonly speaker = new ActiveSpeaker(
    () => this.speakerSources(),
    (id) => this.grid.setSpeaker(id),
  );
  private readonly screenShare = new ScreenShare(() => {
    this.renderSelf();
    this.sendState();
  });
  private micOn = true;
  private camOn = true;
  private me: Me = { name: '', user_id: '' };
  /** Joining or in the call. */
  private busy = false;
  private ended = true;

  constructor(
    private readonly sb: () => Switchboard | null,
    private readonly stage: Stage,
    private readonly chat: ChatPanel,
    private readonly onBusyChange: (busy: boolean) => void,
  ) {}

  get active(): boolean {
    return this.busy;
  }

  /** For tests and the curious (`window.__demo.group`). */
  get debug(): { pcs: RTCPeerConnection[]; levels: Record<string, number>; peers: string[]; states: string[] } | null {
    if (!this.busy) return null;
    const members = [...this.members.values()];
    return {
      pcs: members.flatMap((m) => (m.peer.target ? [m.peer.target] : [])),
      levels: this.speaker.levels(),
      peers: members.map((m) => m.name),
      states: members.map((m) => `${m.name}: ${m.peer.state}${m.peer.call ? '' : ' (no call yet)'}`),
    };
  }

  async join(me: Me): Promise<void> {
    const sb = this.sb();
    if (!sb || this.busy) return;
    this.busy = true;
    this.onBusyChange(true);
    const media = await getLocalMedia();
    if (!media || !this.busy) {
      stopStream(media?.stream);
      this.setIdle();
      return;
    }
    const prefs = loadPrefs();
    // A mesh sends our camera once per member: a smaller picture than a 1:1 call's.
    for (const track of media.stream?.getVideoTracks() ?? []) await track.applyConstraints(groupVideoFromUrl()).catch(() => undefined);
    this.local = media;
    this.me = me;
    this.micOn = prefs.micOn;
    this.camOn = prefs.camOn;
    this.ended = false;
    for (const track of media.stream?.getAudioTracks() ?? []) track.enabled = this.micOn;
    for (const track of media.stream?.getVideoTracks() ?? []) track.enabled = this.camOn;
    this.show(prefs.speaker);
    try {
      const call = await joinGroupCall(sb, media.stream ? { media: media.stream } : {}, (event) => this.onEvent(event));
      if (this.ended) {
        await call.leave();
        return;
      }
      this.call = call;
      this.stage.setState('connected', this.members.size ? 'In the call' : 'Waiting for others…');
    } catch (error) {
      const text = errorCode(error) === 'GROUP_CALL_FULL' ? 'The call is full (six people at most). Try again when someone leaves.' : errorMessage(error);
      this.end(`Could not join the call: ${text}`);
    }
  }

  /** Leaves the call (the others see us go at once). */
  leave(message = 'You left the call.'): void {
    if (this.ended) return;
    const call = this.call;
    this.end(message);
    void call?.leave().catch(() => undefined);
  }

  private show(speakerDevice: string | null): void {
    this.stage.open(
      'Group call',
      'group',
      { mic: () => this.toggleMic(), cam: () => this.toggleCam(), screen: () => void this.toggleScreen(), hangup: () => this.leave() },
      'group',
    );
    this.stage.setState('connecting', 'Joining…');
    this.grid.open(speakerDevice);
    this.renderSelf();
    this.chat.start((text) => this.sendChat(text));
    $('chat-empty').textContent = 'Messages go to everyone in the call, over each connection’s data channel.';
    this.speaker.start();
  }

  private end(message: string): void {
    if (this.ended) return;
    this.ended = true;
    this.call = null;
    this.speaker.stop();
    for (const member of this.members.values()) member.channel.stop();
    this.members.clear();
    this.screenShare.release();
    stopStream(this.local?.stream);
    this.local = null;
    this.grid.clear();
    this.chat.stop();
    $('chat-empty').textContent = 'Messages and files go straight to the other person over the call’s data channel. Drop a file here or use the paper clip.';
    this.stage.close();
    this.setIdle();
    toast(message);
  }

  private setIdle(): void {
    if (!this.busy) return;
    this.busy = false;
    this.onBusyChange(false);
  }

  // ------------------------------------------------------------ events from the SDK

  private onEvent(event: GroupCallEvent): void {
    if (this.ended) return;
    if (event.type === 'closed') {
      this.end('The call ended.');
      return;
    }
    const cid = event.peer.cid;
    if (event.type === 'peer:joined') {
      this.addMember(event.peer);
      return;
    }
    const member = this.members.get(cid);
    if (!member) return;
    switch (event.type) {
      case 'peer:track':
        member.remote.handleTrack(event.track, [...event.streams]);
        return;
      case 'peer:connected':
        member.connected = true;
        member.channel.attach(event.peer.channels);
        if (event.peer.target) {
          this.ensureReceiving(event.peer.target);
          this.screenShare.add(event.peer.target);
        }
        this.render(member);
        return;
      case 'peer:state':
        this.render(member);
        return;
      case 'peer:rtc': {
        const e = event.event;
        if (e.type === 'open' && e.target instanceof RTCDataChannel) member.channel.handleChannel(e.target);
        else if (e.type === 'message') member.channel.handleMessage(e);
        else if (e.type === 'close') member.channel.handleClose(e.target);
        return;
      }
      case 'peer:left':
        this.removeMember(member);
        return;
      default:
        return;
    }
  }

  private addMember(peer: GroupPeer): void {
    const name = displayName({ name: peer.name, user_id: peer.user_id ?? peer.cid });
    const member: Member = {
      peer,
      name,
      connected: false,
      remote: new RemoteMedia(() => this.render(member)),
      channel: new CallChannel({
        open: () => this.sendState(),
        chat: (text, ts) => this.chat.add(text, name, false, ts),
        peerState: (state) => member.remote.handlePeerState(state),
        fileCancel: () => undefined,
      }),
    };
    this.members.set(peer.cid, member);
    this.render(member);
    this.chat.system(`${name} joined the call.`);
    this.stage.setState('connected', 'In the call');
  }

  private removeMember(member: Member): void {
    const cid = member.peer.cid;
    if (this.members.get(cid) !== member) return;
    this.members.delete(cid);
    member.channel.stop();
    if (member.peer.target) this.screenShare.drop(member.peer.target);
    this.grid.remove(cid);
    this.grid.setScreen(cid, member.name, null);
    this.chat.system(`${member.name} left the call.`);
    if (this.members.size === 0 && this.call) this.stage.setState('connected', 'Waiting for others…');
  }

  private render(member: Member): void {
    if (this.ended || this.members.get(member.peer.cid) !== member) return;
    const view = member.remote.layout(member.name, member.connected);
    const camera = view.sharing ? view.side : view.showVideo ? view.main : null;
    const state = member.peer.state;
    const status = !member.connected ? 'Connecting…' : state === 'disconnected' || state === 'failed' ? 'Reconnecting…' : view.camOff ? '' : view.placeholder;
    this.grid.set(member.peer.cid, {
      name: member.name,
      key: member.peer.user_id ?? member.peer.cid,
      video: camera,
      audio: view.audio,
      muted: view.muted,
      camOff: view.camOff,
      status,
    });
    this.grid.setScreen(member.peer.cid, member.name, view.sharing ? view.main : null);
  }

  private renderSelf(): void {
    const stream = this.local?.stream ?? null;
    const hasVideo = (stream?.getVideoTracks().length ?? 0) > 0;
    const hasAudio = (stream?.getAudioTracks().length ?? 0) > 0;
    this.grid.set('self', {
      name: this.me.name,
      key: this.me.user_id,
      video: hasVideo && this.camOn ? stream : null,
      audio: [],
      muted: !hasAudio || !this.micOn,
      camOff: !hasVideo || !this.camOn,
      status: stream ? '' : 'Not sending',
      self: true,
    });
    this.grid.setScreen('self', 'Your', this.screenShare.screen);
    this.stage.setControls({
      hasAudio,
      micOn: this.micOn,
      hasVideo,
      camOn: this.camOn,
      sharing: this.screenShare.active,
      canShare: typeof navigator.mediaDevices?.getDisplayMedia === 'function',
    });
  }

  private speakerSources(): SpeakerSource[] {
    const sources: SpeakerSource[] = [];
    for (const member of this.members.values()) if (member.peer.target) sources.push({ id: member.peer.cid, pc: member.peer.target, kind: 'inbound' });
    const any = sources[0]?.pc;
    if (any && this.micOn && this.local?.stream?.getAudioTracks().length) sources.push({ id: 'self', pc: any, kind: 'local' });
    return sources;
  }

  // ------------------------------------------------------------ what we send

  private sendState(): void {
    const stream = this.local?.stream;
    const state = {
      mic: this.micOn,
      cam: this.camOn,
      hasAudio: (stream?.getAudioTracks().length ?? 0) > 0,
      hasVideo: (stream?.getVideoTracks().length ?? 0) > 0,
      screen: this.screenShare.streamId,
    };
    for (const member of this.members.values()) member.channel.sendState(state);
  }

  private sendChat(text: string): void {
    this.chat.add(text, 'You', true);
    if (this.members.size === 0) {
      this.chat.system('Nobody else is in the call yet.');
      return;
    }
    let waiting = false;
    for (const member of this.members.values()) if (!member.channel.sendChat(text)) waiting = true;
    if (waiting) this.chat.system('Will send to everyone once they are connected…');
  }

  /** Joined without camera and microphone: ask to receive audio and video anyway (the SDK renegotiates). */
  private ensureReceiving(pc: RTCPeerConnection): void {
    if (this.local?.stream) return;
    for (const kind of ['audio', 'video'] as const) {
      if (pc.getTransceivers().some((t) => t.receiver.track.kind === kind)) continue;
      try {
        pc.addTransceiver(kind, { direction: 'recvonly' });
      } catch {
        // nothing to receive then
      }
    }
  }

  // ------------------------------------------------------------ controls

  private toggleMic(): void {
    this.micOn = !this.micOn;
    for (const track of this.local?.stream?.getAudioTracks() ?? []) track.enabled = this.micOn;
    this.renderSelf();
    this.sendState();
  }

  private toggleCam(): void {
    this.camOn = !this.camOn;
    for (const track of this.local?.stream?.getVideoTracks() ?? []) track.enabled = this.camOn;
    this.renderSelf();
    this.sendState();
  }

  private async toggleScreen(): Promise<void> {
    if (this.screenShare.active) {
      this.screenShare.stop();
      return;
    }
    const pcs = [...this.members.values()].flatMap((m) => (m.connected && m.peer.target ? [m.peer.target] : []));
    await this.screenShare.start(pcs, () => this.ended);
  }
}
