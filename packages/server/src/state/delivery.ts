/**
 * Node-local socket delivery, kept apart from the Store so a cluster bus can
 * route a prebuilt frame to the node holding each connection later. A frame is
 * serialized once (one Buffer) for all recipients. With a replay store (resume on),
 * a numbered frame (resume/frame.ts) is first appended to each recipient's replay
 * buffer, which gives it that recipient's seq; the sink splices the seq in front of
 * the shared bytes. A recipient that is away (no socket, still held) counts as
 * delivered: the frame is in its buffer and reaches it on resume.
 */
import { encodeParts, type ServerMessage } from '@switchboard/protocol';
import { isSequenced } from '../resume/frame.js';
import type { ReplayStore } from '../resume/replay-store.js';
import { TextFrame, type OutboundFrame } from './outbound-frame.js';

export type { OutboundFrame };

export function buildFrame(message: ServerMessage, mayWait = false): OutboundFrame {
  const answers = message.type === 'ack' || message.type === 'error' ? message.id : null;
  return new TextFrame(message.type, encodeParts(message), false, mayWait, answers);
}

/** Something that can take a frame for one connection (a live socket on this node). */
export interface FrameSink {
  readonly cid: string;
  /**
   * `seq`: the frame's number for this connection (0: unnumbered, send as is).
   * Returns false when the frame could not be queued (socket closing or closed).
   */
  deliver(frame: OutboundFrame, seq: number): boolean;
  /** Another socket resumed this cid (on another node): drop this one without any cleanup. */
  takenOver?(): void;
}

/**
 * A request being answered (an ack is due to `cid` for request `id`). A cluster delivery may buffer
 * the ack in the same step as the frame the request sends (one Redis call, not two) and hand it to
 * the socket itself; it then sets `acked`, and the caller does not ack again.
 */
export interface AckSlot {
  readonly cid: string;
  readonly id: number;
  /** The ack may wait for the socket's next frame (OutboundFrame.mayWait). */
  readonly mayWait: boolean;
  acked: boolean;
}

export interface Delivery {
  /** Makes `sink` the receiver of its cid's frames; returns the sink it replaced, if any. */
  register(sink: FrameSink): FrameSink | undefined;
  /** Forgets the cid's sink; with `sink`, only when that one is still the registered one. */
  unregister(cid: string, sink?: FrameSink): void;
  /** Sends `frame` to each listed connection; resolves with how many accepted it. */
  send(cids: readonly string[], frame: OutboundFrame, ack?: AckSlot): Promise<number>;
  /**
   * Optional: `send` to one connection, done before it returns (1 or 0), so a relay or an ack on
   * this node costs no promise. Present only when that is always possible (the delivery and its
   * replay store are in this process); a cluster delivery leaves it out.
   */
  sendNow?(cid: string, frame: OutboundFrame): number;
  /**
   * Optional: sends `frame` to every member of `group` plus the `extra` connections, once each.
   * A cluster delivery routes it once per node holding members. Without it the server sends to
   * `store.groupMembers(group)` (see sendToGroup in group-send.ts).
   */
  sendToGroup?(group: string, frame: OutboundFrame, extra?: readonly string[], ack?: AckSlot): Promise<number>;
  close(): Promise<void>;
}

export function createLocalDelivery(replay?: ReplayStore): Delivery {
  const sinks = new Map<string, FrameSink>();
  const appendNow = replay?.appendNow?.bind(replay);
  const sendNow = (cid: string, frame: OutboundFrame): number => {
    const sink = sinks.get(cid);
    if (appendNow === undefined || !isSequenced(frame.type)) return sink !== undefined && sink.deliver(frame, 0) ? 1 : 0;
    const seq = appendNow(cid, frame);
    return (sink !== undefined && sink.deliver(frame, seq)) || seq > 0 ? 1 : 0;
  };
  return {
    sendNow: replay === undefined || appendNow !== undefined ? sendNow : undefined,
    register(sink) {
      const previous = sinks.get(sink.cid);
      sinks.set(sink.cid, sink);
      return previous;
    },
    unregister(cid, sink) {
      if (sink === undefined || sinks.get(cid) === sink) sinks.delete(cid);
    },
    async send(cids, frame) {
      let delivered = 0;
      if (replay && isSequenced(frame.type)) {
        for (const { cid, seq } of await replay.append(cids, frame)) {
          const sink = sinks.get(cid);
          if ((sink !== undefined && sink.deliver(frame, seq)) || seq > 0) delivered += 1;
        }
        return delivered;
      }
      for (const cid of cids) {
        const sink = sinks.get(cid);
        if (sink && sink.deliver(frame, 0)) delivered += 1;
      }
      return delivered;
    },
    async close() {
      sinks.clear();
    },
  };
}
