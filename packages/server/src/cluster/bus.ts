/**
 * Frame routing between nodes over Redis pub/sub: each node subscribes to its own channel
 * (`<prefix>n:<node>`). A group frame is published once per node that holds members of the
 * group, and that node delivers it to its local members; a direct frame is published only to
 * the node holding the target. Where members and targets are comes from the route cache
 * (routes.ts): no Redis read on the way unless the cache misses. A message on the channel is a one-line
 * JSON header, a newline, then the frame exactly as it goes on the WebSocket (serialized once
 * by the sender, never parsed again by the receiving node).
 *
 * With resume on, numbered frames (resume/frame.ts) take another path: the replay store's
 * append script buffers the frame for each recipient cid and publishes it, in the same atomic
 * step, once per node holding recipients, the header listing each cid's seq (`s`); the
 * receiving node splices the seq in per socket. A group frame then costs the member list and
 * one stream append per member, and the request's ack rides in the same script call. A `t`
 * message tells a node that a cid it held was resumed elsewhere: its socket is dropped without
 * cleanup.
 */
import type { Redis } from 'ioredis';
import type { Counter } from 'prom-client';
import { RequestError } from '../request-error.js';
import { buildFrame, type AckSlot, type Delivery, type FrameSink, type OutboundFrame } from '../state/delivery.js';
import type { ServerMessageType } from '@switchboard/protocol';
import { isSequenced } from '../resume/frame.js';
import { TextFrame } from '../state/outbound-frame.js';
import type { AckTemplate, ReplayStore } from '../resume/replay-store.js';
import type { ConnectionRecord } from '../state/store.js';
import type { ClusterKeys } from './keys.js';
import type { LocalIndex } from './local-index.js';
import { UNAVAILABLE_MESSAGE } from './redis-store.js';
import type { GroupRoutes, RouteCache } from './routes.js';

/** Stands for the count in an ack's JSON while it is split around it (ackTemplate). */
const ACK_COUNT_MARK = 918_273_645;

type Header = { k: 'c'; t: ServerMessageType; c: string[]; s?: number[]; g?: 1 } | { k: 'g'; t: ServerMessageType; g: string } | { k: 't'; c: string };

export interface BusDeps {
  redis: Redis;
  keys: ClusterKeys;
  node: string;
  local: LocalIndex;
  /** Where other nodes' connections are (kept current through the routes channel). */
  routes: RouteCache;
  /** A group's members with their nodes (the route cache, or Redis on a miss). */
  groupRoutes(group: string): Promise<GroupRoutes> | GroupRoutes;
  /** A connection's record (the route cache, or Redis on a miss; RequestError when Redis fails). */
  lookup(cid: string): Promise<ConnectionRecord | null>;
  published: Counter<'kind'>;
  received: Counter<'kind'>;
  onFailure(err: unknown): void;
  /** Redis is known not to answer: fail at once instead of waiting for a timeout. */
  stalled(): boolean;
  /** Numbered frames go through its append (buffered and published at once); null: resume off. */
  replay: ReplayStore | null;
}

export interface Bus extends Delivery {
  /** Handles a message from this node's channel. */
  receive(message: Buffer): void;
  /** Tells `to` that `cid` was resumed on this node (its old socket there is dropped without cleanup). */
  takeover(to: string, cid: string): Promise<void>;
}

export function createBus(deps: BusDeps): Bus {
  const { redis, keys, node, local } = deps;
  const sinks = new Map<string, FrameSink>();

  const deliverLocal = (cids: Iterable<string>, frame: OutboundFrame): number => {
    let delivered = 0;
    for (const cid of cids) {
      const sink = sinks.get(cid);
      if (sink && sink.deliver(frame, 0)) delivered += 1;
    }
    return delivered;
  };

  /**
   * Buffers and routes a numbered frame (the script published it to the other nodes). With `ack`,
   * the request's ack is buffered in the same script call when the store can (ReplayStore.appendWithAck)
   * and goes to the sender's socket after the frame: a post costs one Redis round trip, not two.
   */
  async function sendSequenced(replay: ReplayStore, cids: readonly string[], frame: OutboundFrame, group: boolean, ack?: AckSlot): Promise<number> {
    const template = ack !== undefined && replay.appendWithAck !== undefined ? ackTemplate(ack.cid, ack.id) : null;
    const { appended, ack: acked } = template
      ? await unavailable(() => replay.appendWithAck!(cids, frame, group, template))
      : { appended: await unavailable(() => replay.append(cids, frame, group)), ack: null };
    let delivered = 0;
    const remote = new Set<string>();
    for (const { cid, seq, node: where, published } of appended) {
      const sink = where === null || where === node ? sinks.get(cid) : undefined;
      if (where !== null && where !== node) remote.add(where);
      // Buffered (seq > 0): it reaches the connection live or on resume.
      if ((sink !== undefined && sink.deliver(frame, seq)) || seq > 0 || published === true) delivered += 1;
    }
    if (remote.size > 0) deps.published.inc({ kind: group ? 'group' : 'direct' }, remote.size);
    if (acked !== null && template !== null && ack !== undefined) {
      // The same text the script buffered, not encoded again.
      const text = `${template.head}${acked.delivered}${template.tail}`;
      sinks.get(ack.cid)?.deliver(new TextFrame('ack', [text], false, ack.mayWait, ack.id), acked.seq);
      ack.acked = true;
    }
    return delivered;
  }

  /** An ack's JSON split around its count, built by the same encoder as every ack (so the copies match). */
  const ackTemplate = (cid: string, id: number): AckTemplate => {
    const text = buildFrame({ type: 'ack', id, result: { delivered: ACK_COUNT_MARK } }).data.toString('utf8');
    const at = text.lastIndexOf(String(ACK_COUNT_MARK));
    return { cid, head: text.slice(0, at), tail: text.slice(at + String(ACK_COUNT_MARK).length) };
  };

  const encodeMessage = (header: Header, frame: OutboundFrame): Buffer => Buffer.concat([Buffer.from(`${JSON.stringify(header)}\n`), frame.data]);

  /** Publishes; resolves with whether a node received it (0 subscribers: the node is gone). */
  const publish = async (to: string, header: Header, frame: OutboundFrame): Promise<boolean> => {
    deps.published.inc({ kind: header.k === 'g' ? 'group' : 'direct' });
    return (await redis.publish(keys.channel(to), encodeMessage(header, frame))) > 0;
  };

  async function unavailable<T>(op: () => Promise<T>): Promise<T> {
    if (deps.stalled()) throw new RequestError('SERVER_UNAVAILABLE', UNAVAILABLE_MESSAGE);
    try {
      return await op();
    } catch (err) {
      deps.onFailure(err);
      throw new RequestError('SERVER_UNAVAILABLE', UNAVAILABLE_MESSAGE);
    }
  }

  async function send(cids: readonly string[], frame: OutboundFrame, ack?: AckSlot): Promise<number> {
    if (deps.replay && isSequenced(frame.type)) return sendSequenced(deps.replay, cids, frame, false, ack);
    const mine: string[] = [];
    const remote = new Map<string, string[]>();
    const unknown: string[] = [];
    const route = (cid: string, where: string) => {
      let list = remote.get(where);
      if (!list) remote.set(where, (list = []));
      list.push(cid);
    };
    for (const cid of cids) {
      if (sinks.has(cid) || local.has(cid)) mine.push(cid);
      else {
        const where = deps.routes.nodeOf(cid);
        if (where === undefined) unknown.push(cid);
        else if (where === node) mine.push(cid);
        else route(cid, where);
      }
    }
    if (unknown.length > 0) {
      const records = await Promise.all(unknown.map((cid) => deps.lookup(cid)));
      for (const record of records) {
        if (record === null) continue;
        if (record.node === node) mine.push(record.cid);
        else route(record.cid, record.node);
      }
    }
    let delivered = deliverLocal(mine, frame);
    if (remote.size > 0) {
      const results = await unavailable(() =>
        Promise.all([...remote].map(async ([to, list]) => ((await publish(to, { k: 'c', t: frame.type, c: list }, frame)) ? list.length : 0))),
      );
      for (const n of results) delivered += n;
    }
    return delivered;
  }

  return {
    register(sink) {
      const previous = sinks.get(sink.cid);
      sinks.set(sink.cid, sink);
      return previous;
    },
    unregister(cid, sink) {
      if (sink === undefined || sinks.get(cid) === sink) sinks.delete(cid);
    },
    send,

    async takeover(to, cid) {
      await unavailable(() => redis.publish(keys.channel(to), Buffer.from(`${JSON.stringify({ k: 't', c: cid } satisfies Header)}\n`)));
    },

    async sendToGroup(group, frame, extra = [], ack) {
      // Route first: if Redis cannot be asked, nothing is delivered and the sender is told.
      let routes = deps.groupRoutes(group);
      if (routes instanceof Promise) routes = await unavailable(() => routes as Promise<GroupRoutes>);
      if (deps.replay && isSequenced(frame.type)) {
        const cids = new Set(routes.members.keys());
        for (const cid of extra) cids.add(cid);
        return sendSequenced(deps.replay, [...cids], frame, true, ack);
      }
      const mine = new Set(local.members(group));
      const others: string[] = [];
      for (const cid of extra) {
        if (sinks.has(cid) || local.has(cid)) mine.add(cid);
        else others.push(cid);
      }
      let delivered = deliverLocal(mine, frame);
      const targets = [...routes.perNode].filter(([to, count]) => to !== node && count > 0);
      if (targets.length > 0) {
        const results = await unavailable(() =>
          Promise.all(targets.map(async ([to, count]) => ((await publish(to, { k: 'g', t: frame.type, g: group }, frame)) ? count : 0))),
        );
        for (const n of results) delivered += n;
      }
      if (others.length > 0) delivered += await send(others, frame);
      return delivered;
    },

    receive(message) {
      const newline = message.indexOf(0x0a);
      if (newline < 0) return;
      let header: Header;
      try {
        header = JSON.parse(message.toString('utf8', 0, newline)) as Header;
      } catch {
        return;
      }
      if (header.k === 't') {
        const sink = sinks.get(header.c);
        if (sink) sinks.delete(header.c);
        local.remove(header.c);
        sink?.takenOver?.();
        return;
      }
      const frame: OutboundFrame = { type: header.t, data: message.subarray(newline + 1) };
      deps.received.inc({ kind: header.k === 'g' || (header.k === 'c' && header.g === 1) ? 'group' : 'direct' });
      if (header.k === 'g') deliverLocal([...local.members(header.g)], frame);
      else if (!header.s) deliverLocal(header.c, frame);
      else {
        header.c.forEach((cid, i) => sinks.get(cid)?.deliver(frame, header.s![i] ?? 0));
      }
    },

    async close() {
      sinks.clear();
    },
  };
}
