// Entry of dist/switchboard.browser.js (readable ESM for tests and examples): the SDK and the
// file-transfer and group-call add-ons in one module.
export * from '../src/index.ts';
export * from '../src/transfer/index.ts';
export * from '../src/group/index.ts';
// The SDK's own browser tests look inside an instance (live calls, current ICE servers) through
// this; it is not in the typed API and not in the CDN builds.
export { switchboardInternals } from '../src/switchboard.ts';
