/**
 * Lua scripts of the Redis replay store. ARGV[1] is the key prefix; every script is atomic, so
 * a frame is buffered and published in one step, and a resume's check and takeover are one
 * step too (no frame can slip between reading the buffer and rerouting the cid).
 *
 *   epoch        STRING  the store's epoch (a new one when Redis lost its data)
 *   rh:<cid>     HASH    u (user_id), gen, st ('l' a socket holds it | 'a' away), as (away since, ms),
 *                        of (highest seq evicted for size), bn (bytes and frames buffered, packed: see UNIT)
 *   rf:<cid>     STREAM  id "0-<seq>", fields t (ms), d (the frame without its seq). Made empty with
 *                        the hold and deleted with it: an append numbers a frame with the stream's own
 *                        next id (XADD 0-*, Redis 7) and finds no hold where there is no stream
 *                        (NOMKSTREAM), so a frame costs two commands per recipient, XADD and HINCRBY.
 *   ra           ZSET    away cids, score: when their window ends (ms)
 *   rq:<cid>     ZSET    request ids the connection started, score: generation × 2^30 + request count
 *                        (read by the node a resume lands on; same lifetime as the hold)
 *
 * The claim also moves the cid's routing (c:<cid>.nd, cn, nc:<node>, gx:<group>) to the
 * resuming node, with the layout of cluster/keys.ts (keep the two in step), and announces the
 * move on the routes channel `m` like the cluster's scripts do. Times come from
 * ARGV when given (tests), else from the Redis clock, so node clocks do not matter.
 * (Holds of the layout before rh/rf, rs/rb, are not read: their clients reconnect afresh once.)
 */
import type { Redis } from 'ioredis';
import { addLuaCommands } from '../cluster/lua.js';

const PRELUDE = `
local P = ARGV[1]
-- bn packs a hold's buffered bytes and frames into one integer (bytes * UNIT + frames), so one
-- HINCRBY counts an append; frames stay under UNIT (maxBufferedFrames ≤ 10^6) and the total under 2^53.
local UNIT = 1048576
local function clock(arg)
  if arg ~= '' then return tonumber(arg) end
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
-- A cid's hold and its frames (the layout's key names, in one place).
local function keys_of(cid) return P .. 'rh:' .. cid, P .. 'rf:' .. cid end
local function id_of(seq) return string.format('0-%d', seq) end
local function seq_of(id) return tonumber(string.match(id, '%-(%d+)$')) end
-- The last seq given out: the stream's last id, which stays when its entries are deleted.
local function top_of(bk)
  local info = redis.call('XINFO', 'STREAM', bk)
  for i = 1, #info, 2 do
    if info[i] == 'last-generated-id' then return seq_of(info[i + 1]) end
  end
  return 0
end
local function trim(hk, bk, now, maxFrames, maxBytes, maxAge)
  local n = redis.call('XLEN', bk)
  local bytes = math.floor(tonumber(redis.call('HGET', hk, 'bn') or '0') / UNIT)
  while n > 0 do
    local head = redis.call('XRANGE', bk, '-', '+', 'COUNT', 1)[1]
    local bySize = n > maxFrames or bytes > maxBytes
    if not bySize and now - tonumber(head[2][2]) <= maxAge then break end
    redis.call('XDEL', bk, head[1])
    n = n - 1
    bytes = bytes - string.len(head[2][4])
    if bySize then redis.call('HSET', hk, 'of', seq_of(head[1])) end
  end
  redis.call('HSET', hk, 'bn', string.format('%d', bytes * UNIT + n))
end
local function first_seq(bk, top)
  local head = redis.call('XRANGE', bk, '-', '+', 'COUNT', 1)[1]
  if head then return seq_of(head[1]) end
  return top + 1
end
`;

/** ARGV: prefix, newEpoch. Returns the epoch (creates it when missing). */
const EPOCH = `${PRELUDE}
redis.call('SET', P .. 'epoch', ARGV[2], 'NX')
return redis.call('GET', P .. 'epoch')
`;

/** ARGV: prefix, newEpoch, cid, user_id. A fresh hold (generation 0, live); returns the epoch. */
const OPEN = `${PRELUDE}
redis.call('SET', P .. 'epoch', ARGV[2], 'NX')
local cid = ARGV[3]
local hk, bk = keys_of(cid)
redis.call('DEL', hk, bk, P .. 'rq:' .. cid)
redis.call('HSET', hk, 'u', ARGV[4], 'gen', 0, 'st', 'l', 'of', 0, 'bn', 0)
-- An empty stream whose next id is 0-1.
redis.call('XADD', bk, '0-1', 'd', '')
redis.call('XDEL', bk, '0-1')
redis.call('XSETID', bk, '0-0')
redis.call('ZREM', P .. 'ra', cid)
return redis.call('GET', P .. 'epoch')
`;

/**
 * ARGV: prefix, self node, now, maxFrames, maxBytes, maxAgeMs, frame type, frame, group ('1': a
 * group frame, for the nodes' metrics; the header then says g=1), ack cid ('' none), ack head,
 * ack tail, cid….
 * Appends the frame to each held cid's stream, then publishes it once per node holding
 * targets other than \`self\`, with a header listing the cids and their seqs (0: no hold).
 * With an ack cid held on \`self\` (the sender of the request this frame carries out), its ack
 * is appended to that cid's stream in the same step: head, the number of targets that took the
 * frame (buffered, or published to a listening node), tail. Not when none did (the request is
 * answered with an error), nor when a target has no hold and may be on \`self\` (only the node
 * can tell whether its socket took it): the caller answers then.
 * Returns {{cid, seq, node ('' unknown)}…, {node, receivers}…, {ack seq (0: none), delivered}}.
 */
const APPEND = `${PRELUDE}
local self, now = ARGV[2], clock(ARGV[3])
local maxFrames, maxBytes, maxAge = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local ftype, frame = ARGV[7], ARGV[8]
local size = string.len(frame)
local out, routes, order, seen = {}, {}, {}, {}
local grp = nil
if ARGV[9] == '1' then grp = 1 end
local ackCid, FIRST = ARGV[10], 13
-- The owners of every target in one HMGET (in chunks: Lua's unpack has a stack limit).
local owners = {}
for i = FIRST, #ARGV, 4000 do
  local chunk = {}
  for j = i, math.min(i + 3999, #ARGV) do table.insert(chunk, ARGV[j]) end
  for j, node in ipairs(redis.call('HMGET', P .. 'cn', unpack(chunk))) do owners[i + j - 1] = node end
end
-- Per target: the append, which numbers the frame (nothing when the cid has no hold), and one
-- count of what its buffer holds. The trim runs when over a limit and every 32 frames for age (a
-- claim or snapshot trims first anyway); a connected client's delivery probes keep it short.
local counted = string.format('%d', size * UNIT + 1)
for i = FIRST, #ARGV do
  local cid = ARGV[i]
  if not seen[cid] then
    seen[cid] = true
    local seq = 0
    local hk, bk = keys_of(cid)
    local id = redis.call('XADD', bk, 'NOMKSTREAM', '0-*', 't', now, 'd', frame)
    if id then
      seq = seq_of(id)
      local bn = redis.call('HINCRBY', hk, 'bn', counted)
      local n = bn % UNIT
      if n > maxFrames or (bn - n) / UNIT > maxBytes or seq % 32 == 0 then trim(hk, bk, now, maxFrames, maxBytes, maxAge) end
    end
    local node = owners[i] or ''
    table.insert(out, cid)
    table.insert(out, seq)
    table.insert(out, node)
    if node ~= '' and node ~= self then
      local r = routes[node]
      if not r then
        r = { c = {}, s = {} }
        routes[node] = r
        table.insert(order, node)
      end
      table.insert(r.c, cid)
      table.insert(r.s, seq)
    end
  end
end
local received, listening = {}, {}
for _, node in ipairs(order) do
  local r = routes[node]
  local header = cjson.encode({ k = 'c', t = ftype, c = r.c, s = r.s, g = grp })
  local n = redis.call('PUBLISH', P .. 'n:' .. node, header .. '\\n' .. frame)
  listening[node] = n > 0
  table.insert(received, node)
  table.insert(received, n)
end
local acked = { 0, 0 }
if ackCid ~= '' and redis.call('HGET', P .. 'cn', ackCid) == self then
  -- Counted as the node counts (cluster/bus.ts): buffered, or published to a node that listens.
  local delivered, known = 0, true
  for k = 1, #out, 3 do
    local seq, node = out[k + 1], out[k + 2]
    if seq > 0 or (node ~= '' and node ~= self and listening[node]) then
      delivered = delivered + 1
    elseif node == '' or node == self then
      known = false
    end
  end
  if known and delivered > 0 then
    local ack = ARGV[11] .. string.format('%d', delivered) .. ARGV[12]
    local hk, bk = keys_of(ackCid)
    local id = redis.call('XADD', bk, 'NOMKSTREAM', '0-*', 't', now, 'd', ack)
    if id then
      local seq = seq_of(id)
      local bn = redis.call('HINCRBY', hk, 'bn', string.format('%d', string.len(ack) * UNIT + 1))
      local n = bn % UNIT
      if n > maxFrames or (bn - n) / UNIT > maxBytes or seq % 32 == 0 then trim(hk, bk, now, maxFrames, maxBytes, maxAge) end
      acked = { seq, delivered }
    end
  end
end
return { out, received, acked }
`;

/**
 * ARGV: prefix, cid, now, windowMs, ttlMs, onlyLive ('1': leave an away hold as it is),
 * generation ('' any). The socket went away; returns 0 without a hold, 1 when marked away,
 * 2 when it already was (onlyLive), 3 when the hold is at another generation (resumed since).
 */
const AWAY = `${PRELUDE}
local cid, now, window, ttl = ARGV[2], clock(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local hk, bk = keys_of(cid)
if redis.call('EXISTS', hk) == 0 then return 0 end
if ARGV[6] == '1' and redis.call('HGET', hk, 'st') == 'a' then return 2 end
if ARGV[7] ~= '' and redis.call('HGET', hk, 'gen') ~= ARGV[7] then return 3 end
redis.call('HSET', hk, 'st', 'a', 'as', now)
redis.call('PEXPIRE', hk, ttl)
redis.call('PEXPIRE', bk, ttl)
redis.call('PEXPIRE', P .. 'rq:' .. cid, ttl)
redis.call('ZADD', P .. 'ra', now + window, cid)
return 1
`;

/**
 * ARGV: prefix, cid, user_id, epoch, generation, lastSeq (-1: invalid), windowMs, maxFrames,
 * maxBytes, maxAgeMs, node, now. The checks of decision.ts in its order (after the token), then
 * the takeover. Returns {reason} or {'ok', generation, top, previousNode, {seq, frame}…}.
 */
const CLAIM = `${PRELUDE}
local cid, user, epoch, gen, lastSeq = ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[6])
local window, maxFrames, maxBytes, maxAge = tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9]), tonumber(ARGV[10])
local node, now = ARGV[11], clock(ARGV[12])
if redis.call('GET', P .. 'epoch') ~= epoch then return { 'epoch_changed' } end
local hk, bk = keys_of(cid)
local h = redis.call('HMGET', hk, 'u', 'gen', 'st', 'as')
if not h[1] or redis.call('EXISTS', bk) == 0 then return { 'expired' } end
if h[1] ~= user then return { 'invalid_token' } end
if h[3] == 'a' and now - tonumber(h[4]) > window then return { 'expired' } end
if tonumber(h[2]) ~= gen then return { 'taken_over' } end
local top = top_of(bk)
if lastSeq < 0 or lastSeq > top then return { 'invalid_seq' } end
trim(hk, bk, now, maxFrames, maxBytes, maxAge)
if lastSeq < tonumber(redis.call('HGET', hk, 'of')) then return { 'overflowed' } end
if lastSeq + 1 < first_seq(bk, top) then return { 'gap_expired' } end

local g = redis.call('HINCRBY', hk, 'gen', 1)
redis.call('HSET', hk, 'st', 'l')
redis.call('HDEL', hk, 'as')
redis.call('PERSIST', hk)
redis.call('PERSIST', bk)
redis.call('PERSIST', P .. 'rq:' .. cid)
redis.call('ZREM', P .. 'ra', cid)
local prev = ''
local ck = P .. 'c:' .. cid
local rec = redis.call('HMGET', ck, 'u', 'nd', 'g')
if rec[1] then
  prev = rec[2]
  if prev ~= node then
    redis.call('HSET', ck, 'nd', node)
    redis.call('HSET', P .. 'cn', cid, node)
    redis.call('SREM', P .. 'nc:' .. prev, cid)
    redis.call('SADD', P .. 'nc:' .. node, cid)
    if rec[3] then
      local gx = P .. 'gx:' .. rec[3]
      if redis.call('HINCRBY', gx, prev, -1) <= 0 then redis.call('HDEL', gx, prev) end
      redis.call('HINCRBY', gx, node, 1)
    end
    -- The route caches of every node (cluster/routes.ts) learn the move in the order it happened.
    redis.call('PUBLISH', P .. 'm', cjson.encode({ c = cid, n = node, g = rec[3] or '', p = rec[3] or '' }))
  end
end
local flat = {}
for _, e in ipairs(redis.call('XRANGE', bk, id_of(lastSeq + 1), '+')) do
  table.insert(flat, seq_of(e[1]))
  table.insert(flat, e[2][4])
end
return { 'ok', g, top, prev, flat }
`;

/**
 * ARGV: prefix, then pairs cid, seq. Each client has every frame through its seq (a delivery
 * probe's pong): they leave its buffer now instead of at the limits or the age, so a connected
 * client's stream stays short and appends to it never trim. Returns the number of frames dropped.
 */
const RECEIVED = `${PRELUDE}
local dropped = 0
for i = 2, #ARGV - 1, 2 do
  local cid, seq = ARGV[i], tonumber(ARGV[i + 1])
  local hk, bk = keys_of(cid)
  local gone = redis.call('XRANGE', bk, '-', id_of(seq))
  if #gone > 0 then
    local bytes = 0
    for _, e in ipairs(gone) do bytes = bytes + string.len(e[2][4]) end
    redis.call('XTRIM', bk, 'MINID', id_of(seq + 1))
    redis.call('HINCRBY', hk, 'bn', string.format('%d', -(bytes * UNIT + #gone)))
    dropped = dropped + #gone
  end
end
return dropped
`;

/** ARGV: prefix, cid. Forgets the hold. */
const RELEASE = `${PRELUDE}
local cid = ARGV[2]
local hk, bk = keys_of(cid)
redis.call('DEL', hk, bk, P .. 'rq:' .. cid)
redis.call('ZREM', P .. 'ra', cid)
return 1
`;

/** ARGV: prefix, now, limit. Away cids whose window ended, removed from \`ra\` (each returned once). */
const EXPIRED = `${PRELUDE}
local now, limit = clock(ARGV[2]), tonumber(ARGV[3])
local due = redis.call('ZRANGEBYSCORE', P .. 'ra', '-inf', '(' .. string.format('%d', now), 'LIMIT', 0, limit)
for _, cid in ipairs(due) do redis.call('ZREM', P .. 'ra', cid) end
return due
`;

/** ARGV: prefix, cid, now, maxFrames, maxBytes, maxAgeMs. {u, gen, as ('' live), top, first, of} or nil. */
const SNAPSHOT = `${PRELUDE}
local cid, now = ARGV[2], clock(ARGV[3])
local hk, bk = keys_of(cid)
if redis.call('EXISTS', hk) == 0 or redis.call('EXISTS', bk) == 0 then return false end
trim(hk, bk, now, tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6]))
local h = redis.call('HMGET', hk, 'u', 'gen', 'as', 'of')
local top = top_of(bk)
return { h[1], tonumber(h[2]), h[3] or '', top, first_seq(bk, top), tonumber(h[4]) }
`;

type Reply = unknown;

export interface ReplayScripts {
  sbrEpoch(...args: string[]): Promise<string>;
  sbrOpen(...args: string[]): Promise<string>;
  sbrAppend(...args: Array<string | Buffer>): Promise<[Array<string | number>, Array<string | number>, [number, number]]>;
  sbrAway(...args: string[]): Promise<number>;
  sbrClaimBuffer(...args: string[]): Promise<Reply[]>;
  sbrReceived(...args: string[]): Promise<number>;
  sbrRelease(...args: string[]): Promise<number>;
  sbrExpired(...args: string[]): Promise<string[]>;
  sbrSnapshot(...args: string[]): Promise<[string, number, string, number, number, number] | null>;
}

export type ReplayRedis = Redis & ReplayScripts;

export function defineReplayScripts(redis: Redis): ReplayRedis {
  const scripts = {
    sbrEpoch: EPOCH,
    sbrOpen: OPEN,
    sbrAppend: APPEND,
    sbrAway: AWAY,
    sbrClaim: CLAIM,
    sbrReceived: RECEIVED,
    sbrRelease: RELEASE,
    sbrExpired: EXPIRED,
    sbrSnapshot: SNAPSHOT,
  };
  if ('sbrAppend' in redis) return redis as ReplayRedis;
  return addLuaCommands<ReplayScripts>(redis, scripts, ['sbrClaim']);
}
