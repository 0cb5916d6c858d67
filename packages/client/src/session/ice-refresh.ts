import type { AckResultOf, IceServer } from '@switchboard/protocol';

/**
 * The ICE servers of the connection, and their refresh: fresh TURN credentials are asked for
 * (an `ice` request) well before the current ones expire.
 */
export class IceRefresh {
  private list: IceServer[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;

  /** `request` resolves with a checked ice result, or rejects (the old list is kept). */
  constructor(private readonly request: () => Promise<AckResultOf<'ice'>>) {}

  get servers(): IceServer[] {
    return this.list;
  }

  update(servers: IceServer[], expiresAt: number | null): void {
    this.list = servers;
    this.stop();
    if (expiresAt === null) return;
    const remaining = expiresAt - Date.now();
    const delay = Math.max(1_000, remaining - Math.min(5 * 60_000, remaining / 2));
    this.timer = setTimeout(() => {
      this.request().then(
        (result) => this.update(result.iceServers, result.iceExpiresAt),
        () => undefined, // Keep the old list; the next welcome brings a new one.
      );
    }, delay);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
