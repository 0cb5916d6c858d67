export { createServer } from './server.js';
export type { ListenAddress, ServerRuntime, SwitchboardServer } from './server.js';
export {
  ConfigError, configSchema, defaultConfig, LOG_LEVELS, mergeConfig, resolveConfig, TLS_MODES, validateConfig,
} from './config.js';
export type { ConfigIssue, LogLevel, ServerLimits, SwitchboardConfig, SwitchboardConfigInput, TlsMode } from './config.js';
export { configFromEnv, configFromFile, configLeaves, loadConfig, loadConfigWithSources } from './config-sources.js';
export type { ConfigSources } from './config-sources.js';
export { createTokenAuthority, signToken, userIdProblem } from './auth/tokens.js';
export type { TokenAuthority, VerifiedToken } from './auth/tokens.js';
export { loadOrCreateSecret, resolveSecrets } from './auth/secrets.js';
export { createIceProvider, turnCredential } from './turn/credentials.js';
export type { IceBundle, IceProvider, IceSettings } from './turn/credentials.js';
export { ensureSelfSigned, loadTls } from './http/tls.js';
export type { TlsMaterial } from './http/tls.js';
export { createLogger } from './logger.js';
export type { Logger } from './logger.js';
export { lanAddresses } from './net.js';
export { createMemoryStore } from './state/memory-store.js';
export { ClusterStartError, createRedisCluster } from './cluster/index.js';
export { StartupError } from './startup-error.js';
export type { MembershipHooks, RedisCluster, RedisClusterOptions } from './cluster/index.js';
export { redactUrl } from './redact.js';
export { createLocalDelivery, buildFrame } from './state/delivery.js';
export type { Delivery, FrameSink, OutboundFrame } from './state/delivery.js';
export type {
  CallRecord, ConnectionRecord, GroupFilter, GroupRow, Page, PageQuery, Store, UserRow,
} from './state/store.js';
