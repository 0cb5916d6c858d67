export { createResumeTokens, type ResumeClaims, type ResumeTokens } from './token.js';
export { decideResume, parseResumeRequest, releasesHold, type DecisionInput, type HoldSnapshot, type ResumeDecision, type ResumeRequest } from './decision.js';
export { isSequenced, SEQUENCED_TYPES, withSeq } from './frame.js';
export { replayLimits, type Appended, type AwayResult, type BufferedFrame, type ClaimResult, type ReplayLimits, type ReplayStore } from './replay-store.js';
export { createMemoryReplayStore, type MemoryReplayOptions } from './memory-replay.js';
export { createRedisReplayStore, type RedisReplayOptions, type RedisReplayStore } from './redis-replay.js';
export { RequestLog } from './request-log.js';
