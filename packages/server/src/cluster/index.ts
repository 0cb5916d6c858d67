export { createRedisCluster, ClusterStartError } from './cluster.js';
export type { RedisCluster, RedisClusterOptions } from './cluster.js';
export type { MembershipHooks } from './membership.js';
