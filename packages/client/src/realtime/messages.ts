/** Skapi's exact strings (skapi-api-notes §1, §2): apps match on them. */
export const TEXT = {
  connected: 'Connected to WebSocket server.',
  closed: 'WebSocket connection closed.',
  unexpectedClose: 'Skapi: WebSocket unexpected close.',
  connectionError: 'Skapi: WebSocket connection error.',
  maxAttempts: 'Skapi: Max reconnection attempts reached.',
  reconnecting: (attempt: number) => `Reconnecting to WebSocket server...${attempt}`,
  // Switchboard's own (no Skapi counterpart): the outcome of a reconnect.
  resumed: 'Resumed the WebSocket connection.',
  notResumed: (reason: string | undefined) => `Reconnected with a new connection${reason ? ` (not resumed: ${reason})` : ''}.`,
  callbackNotFunction: 'Callback must be a function.',
  noConnection: 'No realtime connection. Execute connectRealtime() before this method.',
  noRecipient: 'No recipient.',
  joined: (group: string) => `Joined realtime message group: "${group}".`,
  left: 'Left realtime message group.',
  groupType: '"group" must be a string | null.',
  messageSent: 'Message sent.',
  invalidDataType: 'Invalid data type.',
  notificationTooLarge: 'Notification size exceeds 3kb.',
  noGroupJoined: 'No group has been joined. Otherwise "group" is required.',
  fetchLimit: 'Fetch limit should be below 1000.',
} as const;
