// Lint: typescript-eslint's recommended rules, files at most 400 lines, and the import
// boundaries between packages and folders (see docs/architecture.md): protocol depends on
// nothing of ours, server and client never import each other, the browser SDK never pulls
// Node-only modules, and nothing outside e2e/ imports from e2e/ (shared test support lives in
// packages/test-utils).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const MAX_LINES = { max: 400, skipBlankLines: false, skipComments: false };

/** `no-restricted-imports` patterns, by what a folder must not reach. */
const fromE2e = { group: ['**/e2e/**', '../e2e', '../../e2e'], message: 'Import shared test support from @switchboard/test-utils, not from e2e/.' };
const fromTestUtils = { group: ['@switchboard/test-utils', '@switchboard/test-utils/*'], message: 'Product code never depends on test support.' };
const pkg = (name, why) => ({ group: [`@switchboard/${name}`, `@switchboard/${name}/*`, `**/packages/${name}/**`], message: why });
const nodeOnly = {
  group: ['node:*', 'ws', 'node-datachannel', 'node-datachannel/*'],
  message: 'The browser SDK must not pull Node-only modules; Node code lives in packages/client/src/node.',
};

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/**',
      '**/dist/**',
      '**/dist-*/**',
      'test-results/**',
      'coverage/**',
      '**/.vite/**',
      'examples/skapi-guide/switchboard.browser.js',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: 'module',
    },
    rules: {
      // TypeScript checks names in .ts files; the .mjs scripts run in Node or a page, and their tests run them.
      'no-undef': 'off',
      'max-lines': ['error', MAX_LINES],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // Object literals with getters and callbacks capture their owner on purpose (`const call = this`).
      '@typescript-eslint/no-this-alias': 'off',
      // Non-null assertions are used where a test or an invariant already guarantees the value.
      '@typescript-eslint/no-non-null-assertion': 'off',
    },
  },
  {
    files: ['packages/protocol/src/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            pkg('server', 'protocol depends on nothing of ours.'),
            pkg('client', 'protocol depends on nothing of ours.'),
            pkg('cli', 'protocol depends on nothing of ours.'),
            fromE2e,
            fromTestUtils,
          ],
        },
      ],
    },
  },
  {
    files: ['packages/server/src/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [pkg('client', 'The server never imports the SDK.'), pkg('cli', 'The server never imports the CLI.'), fromE2e, fromTestUtils] },
      ],
    },
  },
  {
    files: ['packages/client/src/**'],
    ignores: ['packages/client/src/node/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [pkg('server', 'The SDK never imports the server.'), pkg('cli', 'The SDK never imports the CLI.'), nodeOnly, fromE2e, fromTestUtils] },
      ],
    },
  },
  {
    files: ['packages/client/src/node/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [pkg('server', 'The SDK never imports the server.'), pkg('cli', 'The SDK never imports the CLI.'), fromE2e, fromTestUtils] },
      ],
    },
  },
  {
    files: ['packages/cli/src/**', 'apps/demo/src/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [fromE2e, fromTestUtils] }],
    },
  },
  {
    files: ['packages/*/test/**', 'packages/test-utils/**', 'bench/**', 'scripts/**'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [fromE2e] }],
    },
  },
  {
    // Tests read JSON bodies and page globals of whatever shape the code under test produced.
    files: ['packages/*/test/**', 'e2e/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
);
