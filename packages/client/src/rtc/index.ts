/** The peer layer: signaling-agnostic peer sessions (no WebSocket, no call state). */
export { PeerSession, type PeerSessionOptions, type PeerSessionEvents } from './peer-session.js';
export { IceRestartPolicy, type IceRestartOptions, type Health } from './ice-restart.js';
export { normalizeChannels, CHANNEL_PRESETS, DEFAULT_CHANNEL, CONTROL_LABEL, CONTROL_ID, type ChannelSpec } from './channels.js';
export { normalizeIce, normalizeTransportPolicy, rtcConfiguration } from './ice.js';
export { parseControl, type ControlMessage, type PeerSignal } from './control.js';
export { CallChannels } from './app-channels.js';
export { NODE_LIVENESS, type LivenessOptions } from './liveness.js';
