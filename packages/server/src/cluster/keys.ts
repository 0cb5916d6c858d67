/**
 * Redis key and channel names of a cluster (all under one prefix, default `sb:`). The Lua
 * scripts (scripts.ts) build the same names from the prefix; keep the two in step.
 *
 *   nodes            ZSET  node → last heartbeat (ms, Redis clock)
 *   nc:<node>        SET   cids held by the node
 *   reaping:<node>   STRING  lock of the survivor cleaning up a dead node (expires)
 *   reaped:<node>    STRING  tombstone: the node was declared dead (it must drop its clients)
 *   c:<cid>          HASH  u (user_id), nm (name, absent = null), nd (node), t (connectedAt), g (group, absent = none)
 *   cn               HASH  cid → node (routing of direct frames)
 *   u:<user_id>      SET   cids of the user
 *   g:<group>        ZSET  score 0, members "<user_id>\0<cid>" (listings in lexicographic order)
 *   gx:<group>       HASH  node → members of the group on that node (routing of group frames)
 *   gl               ZSET  score 0, group names (listing by name)
 *   gn               ZSET  score 0, "<10-digit size>\0<group>" (listing by number_of_users)
 *   gc               HASH  group → number of members
 *   call:<key>       HASH  call, caller, callee, state, createdAt
 *   cc:<cid>         SET   call keys the connection takes part in
 *   cr:<cid>         ZSET  ringing calls the connection placed (score: createdAt)
 *   ca:<cid>         SET   active calls the connection takes part in (either side)
 *   channel n:<node> frames for the connections of one node
 *   channel m        every change of a connection's node or group, and dead nodes (routes.ts)
 */
export interface ClusterKeys {
  prefix: string;
  nodes: string;
  nodeConns(node: string): string;
  conn(cid: string): string;
  connNode: string;
  user(userId: string): string;
  group(group: string): string;
  groupNodes(group: string): string;
  groupNames: string;
  groupSizes: string;
  groupCounts: string;
  call(key: string): string;
  callsOf(cid: string): string;
  ringingOf(cid: string): string;
  activeOf(cid: string): string;
  channel(node: string): string;
  routes: string;
}

export function clusterKeys(prefix: string): ClusterKeys {
  return {
    prefix,
    nodes: `${prefix}nodes`,
    nodeConns: (node) => `${prefix}nc:${node}`,
    conn: (cid) => `${prefix}c:${cid}`,
    connNode: `${prefix}cn`,
    user: (userId) => `${prefix}u:${userId}`,
    group: (group) => `${prefix}g:${group}`,
    groupNodes: (group) => `${prefix}gx:${group}`,
    groupNames: `${prefix}gl`,
    groupSizes: `${prefix}gn`,
    groupCounts: `${prefix}gc`,
    call: (key) => `${prefix}call:${key}`,
    callsOf: (cid) => `${prefix}cc:${cid}`,
    ringingOf: (cid) => `${prefix}cr:${cid}`,
    activeOf: (cid) => `${prefix}ca:${cid}`,
    channel: (node) => `${prefix}n:${node}`,
    routes: `${prefix}m`,
  };
}

/** Width of the zero-padded group size in `gn` members. */
export const SIZE_DIGITS = 10;
export const MAX_SIZE = 10 ** SIZE_DIGITS - 1;
export const padSize = (n: number): string => String(n).padStart(SIZE_DIGITS, '0');

/** The `g:<group>` member of a connection. */
export const memberOf = (userId: string, cid: string): string => `${userId}\0${cid}`;

/** Splits a `g:<group>` member (cids never contain NUL, so the last one separates). */
export function parseMember(member: string): { user_id: string; cid: string } {
  const at = member.lastIndexOf('\0');
  return { user_id: member.slice(0, at), cid: member.slice(at + 1) };
}

/** The same key as the memory store uses for a call between two connections, either direction. */
export const callKey = (call: string, a: string, b: string): string => (a < b ? `${call} ${a} ${b}` : `${call} ${b} ${a}`);
