/** Test support shared by the package tests, the e2e suites and bench/. See README.md. */
export * from './requirements.js';
export * from './cleanup.js';
export * from './netns.js';
export * from './processes.js';
export * from './services.js';
export * from './chromium.js';
export * from './firefox.js';
export * from './forward.js';
export * from './webrtc-stats.js';
export * from './test-pages.js';
export * from './known-bugs.js';
export * from './node-agent-control.js';
export * from './push-crypto.js';
export * from './push-service.js';
