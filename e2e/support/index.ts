/** The shared e2e harness. See the file headers for details; docs in each module. */
export * from './requirements.js';
export * from './cleanup.js';
export * from './netns.js';
export * from './processes.js';
export * from './services.js';
export * from './chromium.js';
export * from './forward.js';
export * from './webrtc-stats.js';
export * from './test-pages.js';
export * from './known-bugs.js';
