/**
 * How a connection starts (docs/adr/0008-resume.md): as a new connection (a new cid and, with
 * resume on, a fresh hold and a token), or as the resume of an earlier one (`?resume=`): the
 * same cid, re-attached here, with the frames the client missed.
 *
 * The connection registers as its cid's sink BEFORE the hold is opened or claimed, and holds
 * back what arrives until the welcome went out: a frame appended after the claim reaches this
 * sink (locally, or published here by the append script once the claim rerouted the cid), one
 * appended before it is in the replay. The replay and the held-back frames may overlap; the
 * connection drops any seq it already sent.
 */
import type { ServerContext, ResumeContext, Resumable } from '../context.js';
import { handleDisconnect } from '../handlers/index.js';
import type { ResumeReason, UserInfo } from '@switchboard/protocol';
import { releasesHold, type BufferedFrame, type ClaimResult, type RequestLog, type ResumeClaims } from '../resume/index.js';
import type { FrameSink, OutboundFrame } from '../state/delivery.js';
import { ringNewConnection } from '../rtc/ring-user.js';

/** What starting or resuming needs of a connection (connection.ts's Connection is one). */
export interface StartingConnection extends FrameSink, Resumable {
  cid: string;
  readonly user: UserInfo;
  generation: number;
  held: boolean;
  requestLog: RequestLog;
  early: { frame: OutboundFrame; seq: number }[] | null;
}

export interface ResumeAttempt {
  /** The verified token's claims; null when it did not verify (forged, another user's, malformed). */
  claims: ResumeClaims | null;
  /** From `?lastSeq=`; NaN when missing or malformed. */
  lastSeq: number;
}

/** The resume fields of the welcome. */
export interface WelcomeResume {
  resume?: string;
  resumed?: boolean;
  resumeReason?: string;
  replayTo?: number;
}

export interface Started {
  welcome: WelcomeResume;
  /** Frames lastSeq+1 … replayTo, to send right after the welcome. */
  replay: BufferedFrame[];
  replayTo: number;
}

export async function startConnection(ctx: ServerContext, conn: StartingConnection, attempt: ResumeAttempt | null): Promise<Started> {
  const resume = ctx.resume;
  let reason: ResumeReason | null = null;
  if (attempt !== null) {
    if (!resume) reason = 'disabled';
    else if (!attempt.claims) reason = 'invalid_token';
    else {
      const outcome = await claim(ctx, resume, conn, attempt.claims, attempt.lastSeq);
      if (outcome.resumed) {
        ctx.metrics.resumes.inc({ outcome: 'resumed' });
        return outcome.started;
      }
      reason = outcome.reason;
    }
    ctx.metrics.resumes.inc({ outcome: reason });
  }
  ctx.delivery.register(conn);
  const welcome: WelcomeResume = reason === null ? {} : { resumed: false, resumeReason: reason };
  if (resume) {
    const { epoch } = await resume.replay.open(conn.cid, conn.user.user_id, ctx.node);
    conn.held = true;
    welcome.resume = resume.tokens.mint({ userId: conn.user.user_id, cid: conn.cid, epoch, generation: 0 });
  }
  await ctx.store.addConnection({ cid: conn.cid, user: conn.user, node: ctx.node, connectedAt: Date.now(), group: null });
  // Calls ringing this user (a push may have brought this connection) ring it too; its frames follow the welcome.
  void ringNewConnection(ctx, conn.cid, conn.user.user_id);
  return { welcome, replay: [], replayTo: 0 };
}

type Claimed = { resumed: true; started: Started } | { resumed: false; reason: ResumeReason };

async function claim(ctx: ServerContext, resume: ResumeContext, conn: StartingConnection, claims: ResumeClaims, lastSeq: number): Promise<Claimed> {
  const fresh = conn.cid;
  conn.cid = claims.cid;
  // From here on, frames for the cid come to this connection (held back until the welcome).
  const displaced = ctx.delivery.register(conn);
  /** Refused: the cid's frames go back to the sink that had them (a live older socket), the new connection gets its fresh cid. */
  const giveBack = () => {
    ctx.delivery.unregister(claims.cid, conn);
    const early = conn.early ?? [];
    conn.early = [];
    if (displaced) {
      ctx.delivery.register(displaced);
      for (const { frame, seq } of early) displaced.deliver(frame, seq);
    }
    conn.cid = fresh;
  };
  let result: ClaimResult;
  try {
    result = await resume.replay.claim(claims, lastSeq, ctx.node);
  } catch (err) {
    giveBack();
    throw err;
  }
  if (!result.resumed) {
    giveBack();
    if (releasesHold(result.reason)) {
      // Nobody can resume it any more: the usual disconnect now rather than at the window's end.
      resume.local.get(claims.cid)?.takeOver();
      await handleDisconnect(ctx, claims.cid).catch((err: unknown) =>
        ctx.log.warn({ cid: claims.cid, err: (err as Error).message }, 'release after a refused resume failed'),
      );
    }
    return { resumed: false, reason: result.reason };
  }

  conn.generation = result.generation;
  conn.held = true;
  const old = resume.local.get(claims.cid);
  if (old !== undefined && old !== conn) {
    conn.requestLog = old.takeOver(); // same node: the old socket's log carries over
    conn.requestLog.confirmed(lastSeq); // the client had the answers through lastSeq
  } else if (result.previousNode !== null && result.previousNode !== ctx.node) {
    for (const [id, generation] of await resume.replay.loggedRequests(claims.cid)) conn.requestLog.record(id, generation);
  }
  await ctx.cluster?.adopt(claims.cid, result.previousNode);
  const token = resume.tokens.mint({ userId: claims.userId, cid: claims.cid, epoch: claims.epoch, generation: result.generation });
  return {
    resumed: true,
    started: { welcome: { resume: token, resumed: true, replayTo: result.replayTo }, replay: result.replay, replayTo: result.replayTo },
  };
}

/**
 * After a socket closed: the cid goes away for a resume (any close but a normal one or one that
 * forbids reconnecting), or is disconnected now (USER_DISCONNECTED, calls hung up). Nothing at
 * all when the cid lives on in another socket (`livesOn`). Resolves whether it went away.
 * While away the connection stays in resume.local: a resume here takes its request log over.
 */
export async function afterClose(
  ctx: ServerContext,
  conn: Pick<StartingConnection, 'cid' | 'held' | 'generation'>,
  { final, livesOn }: { final: boolean; livesOn: boolean },
): Promise<boolean> {
  if (livesOn) return true;
  if (ctx.resume && conn.held && !final) {
    const away = await ctx.resume.replay.away(conn.cid, conn.generation).catch(() => 'failed' as const);
    // `newer`: resumed by another socket meanwhile (its takeover notice still on the way).
    if (away === 'away' || away === 'newer') return true;
  }
  await handleDisconnect(ctx, conn.cid);
  return false;
}
