/**
 * ws-level heartbeat: every interval each connection that showed no sign of
 * life (frame or pong) since the previous sweep is terminated; the others get
 * a ping. A silent peer is therefore dropped within two intervals.
 */
export interface Beating {
  alive: boolean;
  ping(): void;
  terminate(why: string): void;
}

export class Heartbeat {
  private readonly members = new Set<Beating>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly intervalMs: number) {}

  add(member: Beating): void {
    this.members.add(member);
    if (!this.timer) {
      this.timer = setInterval(() => this.sweep(), this.intervalMs);
      this.timer.unref();
    }
  }

  remove(member: Beating): void {
    this.members.delete(member);
    if (this.members.size === 0) this.stop();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private sweep(): void {
    for (const member of this.members) {
      if (!member.alive) {
        this.members.delete(member);
        member.terminate('heartbeat timeout');
        continue;
      }
      member.alive = false;
      member.ping();
    }
  }
}
