export * from './errors.js';
export * from './switchboard-error.js';
export * from './emitter.js';
export * from './limits.js';
export * from './codec.js';
export * from './resume.js';
export * from './schemas/client.js';
export * from './schemas/server.js';
export * from './control.js';
export { controlMessageSchema, controlSchemas } from './schemas/control.js';
export * from './http.js';
export { isJsonObject } from './is-object.js';
export { httpSchemas, parseGuestRequest, parseHttpBody, sdkReadSchemas } from './schemas/http.js';
export {
  rtcSignal as rtcSignalSchema,
  iceServer as iceServerSchema,
  notification as notificationSchema,
  pushSubscription as pushSubscriptionSchema,
} from './schemas/common.js';
export const SUBPROTOCOL = 'switchboard.v1';
/** Browsers cannot set headers on a WebSocket, so the token rides in a second subprotocol: `bearer.<jwt>`. */
export const TOKEN_SUBPROTOCOL_PREFIX = 'bearer.';
export const REALTIME_PATH = '/v1/realtime';
export const GUEST_PATH = '/v1/guest';
export const ICE_PATH = '/v1/ice';
/** getRealtimeUsers / getRealtimeGroups over HTTP (POST, Bearer token): the list_users / list_groups frame's fields as the body. */
export const USERS_PATH = '/v1/users';
export const GROUPS_PATH = '/v1/groups';
