/**
 * Lua scripts as methods of a Redis connection: sent whole (EVAL, which also caches them) the
 * first time and when Redis answers NOSCRIPT (after a restart or SCRIPT FLUSH), by hash
 * (EVALSHA) otherwise, as ioredis's defineCommand does. Not defineCommand itself: ioredis copies
 * every script defined that way onto each Pipeline it makes, and auto-pipelining makes one per
 * tick that sends anything, so with the ~20 scripts of the cluster and the replay store a node
 * spent more time building pipelines than running its own code.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

type Arg = string | Buffer | number;
type LuaCommand = (...args: Arg[]) => Promise<unknown>;
type Eval = (script: string, numKeys: number, ...args: Arg[]) => Promise<unknown>;

/** EVAL and EVALSHA with Buffer replies: ioredis has them, its typings do not. */
interface BufferEvals {
  evalBuffer: Eval;
  evalshaBuffer: Eval;
}

const isNoScript = (err: unknown) => err instanceof Error && err.message.startsWith('NOSCRIPT');

function luaCommand(redis: Redis, lua: string, buffers: boolean): LuaCommand {
  const sha = createHash('sha1').update(lua).digest('hex');
  // Not redis.call/callBuffer: ioredis loses their command name when it auto-pipelines them.
  const withBuffers = redis as unknown as BufferEvals;
  const evalScript: Eval = buffers ? withBuffers.evalBuffer.bind(redis) : redis.eval.bind(redis);
  const evalHash: Eval = buffers ? withBuffers.evalshaBuffer.bind(redis) : redis.evalsha.bind(redis);
  let sent = false;
  return (...args) => {
    // The first call sends the script itself, so it runs in the order it was called; later ones
    // only its hash (a NOSCRIPT after Redis restarted sends it again).
    if (!sent) {
      sent = true;
      return evalScript(lua, 0, ...args);
    }
    return evalHash(sha, 0, ...args).catch((err: unknown) => {
      if (!isNoScript(err)) throw err;
      return evalScript(lua, 0, ...args);
    });
  };
}

/**
 * Adds each script as `redis[name]` (string replies), and as `redis[name + 'Buffer']` (Buffer
 * replies) for the names in `buffers`. Scripts take no KEYS: every key is built from ARGV[1].
 */
export function addLuaCommands<T>(redis: Redis, scripts: Record<string, string>, buffers: readonly string[] = []): Redis & T {
  const methods: Record<string, LuaCommand> = {};
  for (const [name, lua] of Object.entries(scripts)) {
    methods[name] = luaCommand(redis, lua, false);
    if (buffers.includes(name)) methods[`${name}Buffer`] = luaCommand(redis, lua, true);
  }
  return Object.assign(redis, methods) as unknown as Redis & T;
}
