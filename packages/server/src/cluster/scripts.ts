/**
 * Lua scripts: every change that touches more than one key runs atomically in Redis.
 * ARGV[1] is always the key prefix (see keys.ts for the layout). Standalone Redis (or
 * Sentinel) only: the scripts derive key names from the prefix, which Redis Cluster forbids.
 */
import type { Redis } from 'ioredis';
import { addLuaCommands } from './lua.js';

const PRELUDE = `
local P = ARGV[1]
local function pad(n) return string.format('%010d', n) end
local function join_group(uid, cid, g, node)
  local gk = P .. 'g:' .. g
  local before = redis.call('ZCARD', gk)
  if redis.call('ZADD', gk, 0, uid .. '\\0' .. cid) == 1 then
    redis.call('HINCRBY', P .. 'gx:' .. g, node, 1)
    if before > 0 then redis.call('ZREM', P .. 'gn', pad(before) .. '\\0' .. g) end
    redis.call('ZADD', P .. 'gn', 0, pad(before + 1) .. '\\0' .. g)
    redis.call('ZADD', P .. 'gl', 0, g)
    redis.call('HSET', P .. 'gc', g, before + 1)
  end
end
local function leave_group(uid, cid, g, node)
  local gk = P .. 'g:' .. g
  local before = redis.call('ZCARD', gk)
  if redis.call('ZREM', gk, uid .. '\\0' .. cid) == 1 then
    if redis.call('HINCRBY', P .. 'gx:' .. g, node, -1) <= 0 then redis.call('HDEL', P .. 'gx:' .. g, node) end
    redis.call('ZREM', P .. 'gn', pad(before) .. '\\0' .. g)
    if before > 1 then
      redis.call('ZADD', P .. 'gn', 0, pad(before - 1) .. '\\0' .. g)
      redis.call('HSET', P .. 'gc', g, before - 1)
    else
      redis.call('ZREM', P .. 'gl', g)
      redis.call('HDEL', P .. 'gc', g)
    end
  end
end
-- Returns the group the connection was in ('' none), or false when it was not there.
local function unindex(cid)
  local ck = P .. 'c:' .. cid
  local old = redis.call('HMGET', ck, 'u', 'nd', 'g')
  if not old[1] then return false end
  if old[3] then leave_group(old[1], cid, old[3], old[2]) end
  redis.call('SREM', P .. 'u:' .. old[1], cid)
  redis.call('SREM', P .. 'nc:' .. old[2], cid)
  redis.call('HDEL', P .. 'cn', cid)
  return old[3] or ''
end
-- The connection's new state for every node's route cache (routes.ts), in the order of the changes.
local function routed(cid, node, g, prev)
  redis.call('PUBLISH', P .. 'm', cjson.encode({ c = cid, n = node, g = g, p = prev }))
end
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
`;

/** ARGV: prefix, cid, user_id, name ('' when hasName is '0'), hasName, node, connectedAt, group ('' = none). Upsert. */
const PUT = `${PRELUDE}
local cid, uid, name, hasName, node, t, g = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8]
local ck = P .. 'c:' .. cid
local prev = unindex(cid) or ''
redis.call('DEL', ck)
redis.call('HSET', ck, 'u', uid, 'nd', node, 't', t)
if hasName == '1' then redis.call('HSET', ck, 'nm', name) end
if g ~= '' then redis.call('HSET', ck, 'g', g) end
redis.call('HSET', P .. 'cn', cid, node)
redis.call('SADD', P .. 'u:' .. uid, cid)
redis.call('SADD', P .. 'nc:' .. node, cid)
if g ~= '' then join_group(uid, cid, g, node) end
routed(cid, node, g, prev)
return 1
`;

/** ARGV: prefix, cid. Removes the connection and its indexes; returns its hash (flat) or nil. */
const DEL = `${PRELUDE}
local cid = ARGV[2]
local ck = P .. 'c:' .. cid
local rec = redis.call('HGETALL', ck)
if #rec == 0 then return false end
routed(cid, '', '', unindex(cid) or '')
redis.call('DEL', ck)
return rec
`;

/** ARGV: prefix, cid, group ('' = leave). Returns {found, previous ('' = none)}. */
const SET_GROUP = `${PRELUDE}
local cid, g = ARGV[2], ARGV[3]
local ck = P .. 'c:' .. cid
local h = redis.call('HMGET', ck, 'u', 'nd', 'g')
if not h[1] then return {0, ''} end
local prev = h[3] or ''
if prev == g then return {1, prev} end
if prev ~= '' then leave_group(h[1], cid, prev, h[2]) end
if g == '' then
  redis.call('HDEL', ck, 'g')
else
  redis.call('HSET', ck, 'g', g)
  join_group(h[1], cid, g, h[2])
end
routed(cid, h[2], g, prev)
return {1, prev}
`;

/** ARGV: prefix, node. Returns {added (1: the entry was missing), tombstone (1: declared dead), now}. */
const HEARTBEAT = `${PRELUDE}
local node = ARGV[2]
local now = now_ms()
local added = redis.call('ZADD', P .. 'nodes', now, node)
local dead = redis.call('EXISTS', P .. 'reaped:' .. node)
return {added, dead, now}
`;

/** ARGV: prefix, self, timeoutMs, lockMs. Claims dead nodes to clean up; returns their ids. */
const REAP_CLAIM = `${PRELUDE}
local self, timeout, lock = ARGV[2], tonumber(ARGV[3]), ARGV[4]
local dead = redis.call('ZRANGEBYSCORE', P .. 'nodes', '-inf', '(' .. (now_ms() - timeout))
local claimed = {}
for _, node in ipairs(dead) do
  if node ~= self and redis.call('SET', P .. 'reaping:' .. node, self, 'NX', 'PX', lock) then
    redis.call('SET', P .. 'reaped:' .. node, '1', 'EX', 3600)
    redis.call('PUBLISH', P .. 'm', cjson.encode({ d = node }))
    table.insert(claimed, node)
  end
end
return claimed
`;

/** ARGV: prefix, node, timeoutMs. Ends a clean-up: forgets the node unless it came back meanwhile. */
const REAP_DONE = `${PRELUDE}
local node, timeout = ARGV[2], tonumber(ARGV[3])
local score = redis.call('ZSCORE', P .. 'nodes', node)
if score and tonumber(score) < now_ms() - timeout and redis.call('SCARD', P .. 'nc:' .. node) == 0 then
  redis.call('ZREM', P .. 'nodes', node)
end
redis.call('DEL', P .. 'reaping:' .. node)
return 1
`;

/** ARGV: prefix, group. Its members and their nodes, flat: {cid, node, …} (a route cache miss). */
const GROUP_ROUTES = `
local P = ARGV[1]
local out = {}
for _, m in ipairs(redis.call('ZRANGE', P .. 'g:' .. ARGV[2], 0, -1)) do
  local cid = string.match(m, '%z([^%z]*)$')
  local node = redis.call('HGET', P .. 'cn', cid)
  if node then
    table.insert(out, cid)
    table.insert(out, node)
  end
end
return out
`;

/**
 * Calls: call:<key> plus three per-connection indexes kept in step here, so that every cap
 * check is a ZCARD/SCARD: cc:<cid> (all its calls), cr:<caller> (ringing calls it placed,
 * scored by createdAt) and ca:<cid> (active calls on either side).
 */
const CALLS = `
local P = ARGV[1]
local function call_del(key)
  local ck = P .. 'call:' .. key
  local h = redis.call('HMGET', ck, 'caller', 'callee')
  if not h[1] then return 0 end
  redis.call('SREM', P .. 'cc:' .. h[1], key)
  redis.call('SREM', P .. 'cc:' .. h[2], key)
  redis.call('ZREM', P .. 'cr:' .. h[1], key)
  redis.call('SREM', P .. 'ca:' .. h[1], key)
  redis.call('SREM', P .. 'ca:' .. h[2], key)
  redis.call('DEL', ck)
  return 1
end
local function call_put(key, call, caller, callee, state, t)
  call_del(key)
  redis.call('HSET', P .. 'call:' .. key, 'call', call, 'caller', caller, 'callee', callee, 'state', state, 'createdAt', t)
  redis.call('SADD', P .. 'cc:' .. caller, key)
  redis.call('SADD', P .. 'cc:' .. callee, key)
  if state == 'ringing' then
    redis.call('ZADD', P .. 'cr:' .. caller, t, key)
  else
    redis.call('SADD', P .. 'ca:' .. caller, key)
    redis.call('SADD', P .. 'ca:' .. callee, key)
  end
end
`;

/** ARGV: prefix, key. Deletes a call and its per-connection index entries. */
const CALL_DEL = `${CALLS}
return call_del(ARGV[2])
`;

/** ARGV: prefix, key, call, caller, callee, state, createdAt. Upsert, no caps. */
const CALL_PUT = `${CALLS}
call_put(ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7])
return 1
`;

/**
 * ARGV: prefix, key, call, caller, callee, createdAt, staleBefore, maxRinging, maxActive.
 * Returns ok | exists | ringing_full | active_full (see Store.ringCall).
 */
const CALL_RING = `${CALLS}
local key, call, caller, callee, t = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local staleBefore, maxRinging, maxActive = ARGV[7], tonumber(ARGV[8]), tonumber(ARGV[9])
if redis.call('EXISTS', P .. 'call:' .. key) == 1 then return 'exists' end
if redis.call('SCARD', P .. 'ca:' .. caller) >= maxActive then return 'active_full' end
local rk = P .. 'cr:' .. caller
if redis.call('ZCARD', rk) >= maxRinging then
  -- At the cap only: stale ringing calls make room (at most maxRinging of them).
  for _, stale in ipairs(redis.call('ZRANGEBYSCORE', rk, '-inf', '(' .. staleBefore)) do call_del(stale) end
  if redis.call('ZCARD', rk) >= maxRinging then return 'ringing_full' end
end
call_put(key, call, caller, callee, 'ringing', t)
return 'ok'
`;

/** ARGV: prefix, key, callee, maxActive. Returns ok | unchanged | not_found | callee_full | caller_full. */
const CALL_ACCEPT = `${CALLS}
local key, callee, maxActive = ARGV[2], ARGV[3], tonumber(ARGV[4])
local ck = P .. 'call:' .. key
local h = redis.call('HMGET', ck, 'caller', 'callee', 'state')
if not h[1] then return 'not_found' end
if h[3] ~= 'ringing' or h[2] ~= callee then return 'unchanged' end
if redis.call('SCARD', P .. 'ca:' .. callee) >= maxActive then return 'callee_full' end
if redis.call('SCARD', P .. 'ca:' .. h[1]) >= maxActive then return 'caller_full' end
redis.call('HSET', ck, 'state', 'active')
redis.call('ZREM', P .. 'cr:' .. h[1], key)
redis.call('SADD', P .. 'ca:' .. h[1], key)
redis.call('SADD', P .. 'ca:' .. callee, key)
return 'ok'
`;

export type ScriptResult = unknown;

/** The scripts as ioredis commands (EVALSHA, falling back to EVAL after a Redis restart). */
export interface ClusterScripts {
  sbPut(...args: string[]): Promise<number>;
  sbDel(...args: string[]): Promise<string[] | null>;
  sbSetGroup(...args: string[]): Promise<[number, string]>;
  sbHeartbeat(...args: string[]): Promise<[number, number, number]>;
  sbReapClaim(...args: string[]): Promise<string[]>;
  sbReapDone(...args: string[]): Promise<number>;
  sbGroupRoutes(...args: string[]): Promise<string[]>;
  sbCallDel(...args: string[]): Promise<number>;
  sbCallPut(...args: string[]): Promise<number>;
  sbCallRing(...args: string[]): Promise<string>;
  sbCallAccept(...args: string[]): Promise<string>;
}

export type ScriptedRedis = Redis & ClusterScripts;

export function defineScripts(redis: Redis): ScriptedRedis {
  const scripts: Record<keyof ClusterScripts, string> = {
    sbPut: PUT,
    sbDel: DEL,
    sbSetGroup: SET_GROUP,
    sbHeartbeat: HEARTBEAT,
    sbReapClaim: REAP_CLAIM,
    sbReapDone: REAP_DONE,
    sbGroupRoutes: GROUP_ROUTES,
    sbCallDel: CALL_DEL,
    sbCallPut: CALL_PUT,
    sbCallRing: CALL_RING,
    sbCallAccept: CALL_ACCEPT,
  };
  return addLuaCommands<ClusterScripts>(redis, scripts);
}
