import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

// `switchboard serve` serves packages/cli/dist/demo/ at `/`, so the build goes there.
// `vite build --mode mock` swaps the SDK for an in-browser fake (dev/mock-client.ts, BroadcastChannel
// signaling) so the UI can be worked on without a server; that build goes to dist-mock/.
export default defineConfig(({ mode }) => ({
  base: './',
  resolve:
    mode === 'mock'
      ? // Exact match: the file-transfer add-on (`@switchboard/client/transfer`) stays the real one.
        { alias: [{ find: /^@switchboard\/client$/, replacement: fileURLToPath(new URL('./dev/mock-client.ts', import.meta.url)) }] }
      : {},
  build: {
    outDir:
      mode === 'mock' ? fileURLToPath(new URL('./dist-mock/', import.meta.url)) : fileURLToPath(new URL('../../packages/cli/dist/demo/', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    assetsInlineLimit: 0,
  },
  server: { host: true },
}));
