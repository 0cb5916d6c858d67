/**
 * The browser SDK's budget: /switchboard.js and /switchboard.mjs at most 25 KB (25,000 bytes)
 * minified and gzipped (-9), built from the current sources exactly as `npm run build` builds
 * them (scripts/size.mjs). File transfer is an add-on outside the budget.
 */
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a build script without types
import { measureBrowserSdk, SIZE_BUDGET_BYTES } from '../scripts/size.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
type Size = { min: number; gzip: number };

describe('browser SDK size', () => {
  it('the script tag and the ES module stay within 25 KB min+gz', async () => {
    const { script, module } = (await measureBrowserSdk(root)) as { script: Size; module: Size };
    const kb = (n: number) => `${(n / 1000).toFixed(1)} KB`;
    console.info(
      `[bundle-size] /switchboard.js ${kb(script.min)} min, ${kb(script.gzip)} min+gz; /switchboard.mjs ${kb(module.min)} min, ${kb(module.gzip)} min+gz; budget ${kb(SIZE_BUDGET_BYTES)}`,
    );
    expect(SIZE_BUDGET_BYTES).toBe(25_000);
    expect(script.gzip).toBeLessThanOrEqual(SIZE_BUDGET_BYTES);
    expect(module.gzip).toBeLessThanOrEqual(SIZE_BUDGET_BYTES);
  }, 60_000);
});
