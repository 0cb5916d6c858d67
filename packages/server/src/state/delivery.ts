/**
 * Node-local socket delivery, kept apart from the Store so a cluster bus can
 * route a prebuilt frame to the node holding each connection later. A frame is
 * serialized once (one Buffer) and the same Buffer goes to every recipient.
 */
import { encode, type ServerMessage, type ServerMessageType } from '@switchboard/protocol';

export interface OutboundFrame {
  readonly type: ServerMessageType;
  readonly data: Buffer;
}

export function buildFrame(message: ServerMessage): OutboundFrame {
  return { type: message.type, data: Buffer.from(encode(message), 'utf8') };
}

/** Something that can take a frame for one connection (a live socket on this node). */
export interface FrameSink {
  readonly cid: string;
  /** Returns false when the frame could not be queued (socket closing or closed). */
  deliver(frame: OutboundFrame): boolean;
}

export interface Delivery {
  register(sink: FrameSink): void;
  unregister(cid: string): void;
  /** Sends `frame` to each listed connection; resolves with how many accepted it. */
  send(cids: readonly string[], frame: OutboundFrame): Promise<number>;
  /**
   * Optional: sends `frame` to every member of `group` plus the `extra` connections, once each.
   * A cluster delivery routes it once per node holding members. Without it the server sends to
   * `store.groupMembers(group)` (see sendToGroup in group-send.ts).
   */
  sendToGroup?(group: string, frame: OutboundFrame, extra?: readonly string[]): Promise<number>;
  close(): Promise<void>;
}

export function createLocalDelivery(): Delivery {
  const sinks = new Map<string, FrameSink>();
  return {
    register(sink) {
      sinks.set(sink.cid, sink);
    },
    unregister(cid) {
      sinks.delete(cid);
    },
    async send(cids, frame) {
      let delivered = 0;
      for (const cid of cids) {
        const sink = sinks.get(cid);
        if (sink && sink.deliver(frame)) delivered += 1;
      }
      return delivered;
    },
    async close() {
      sinks.clear();
    },
  };
}
