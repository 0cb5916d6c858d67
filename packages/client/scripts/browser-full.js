// Entry of dist/switchboard.browser.js (readable ESM for tests and examples): the SDK and the
// file-transfer helpers in one module.
export * from '../src/index.ts';
export * from '../src/transfer/index.ts';
