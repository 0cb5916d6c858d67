/**
 * The server serves its own browser SDK (@switchboard/client's dist/cdn, built by `npm run build`):
 * /switchboard.js defines the global `Switchboard` (the class, other exports on it), /switchboard.mjs
 * is an ES module, both with source maps, an ETag honoured by If-None-Match, gzip on request, the
 * version in X-Switchboard-Version, and ahead of a static directory's file of the same name.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { createServer, type SwitchboardConfigInput } from '../src/index.js';
import { LOG_LEVEL, tempDir, useCleanup } from './helpers.js';

useCleanup();
const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

const clientDir = dirname(createRequire(import.meta.url).resolve('@switchboard/client/package.json'));
const { version } = JSON.parse(readFileSync(join(clientDir, 'package.json'), 'utf8')) as { version: string };

async function serve(config: SwitchboardConfigInput = {}): Promise<string> {
  const server = createServer({ host: '127.0.0.1', tls: { mode: 'off' }, logLevel: LOG_LEVEL, dataDir: tempDir(), ...config });
  stops.push(() => server.close());
  return (await server.listen(0, '127.0.0.1')).url;
}

describe('GET /switchboard.js and /switchboard.mjs', () => {
  it('script build: the global Switchboard is the class, with the other exports on it; cacheable, versioned', async () => {
    const base = await serve();
    const res = await fetch(`${base}/switchboard.js`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(res.headers.get('x-switchboard-version')).toBe(version);
    expect(res.headers.get('cache-control')).toMatch(/^public, max-age=\d+/);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    const etag = res.headers.get('etag');
    expect(etag).toMatch(new RegExp(`^"${version.replace(/\./g, '\\.')}-`));
    const body = await res.text();
    expect(body).toBe(readFileSync(join(clientDir, 'dist/cdn/switchboard.js'), 'utf8'));
    expect(body.startsWith(`/*! Switchboard client ${version}`)).toBe(true);
    expect(body.trimEnd().endsWith('//# sourceMappingURL=switchboard.js.map')).toBe(true);

    const sandbox: Record<string, any> = {};
    sandbox['globalThis'] = sandbox;
    runInNewContext(body, sandbox);
    const Switchboard = sandbox['Switchboard'];
    expect(typeof Switchboard).toBe('function');
    expect(Switchboard.Switchboard).toBe(Switchboard);
    expect(typeof Switchboard.SwitchboardError).toBe('function');
    expect(Switchboard.ERROR_CODES.RTC_BUSY).toBeDefined();
    expect(Switchboard.sendFile).toBeUndefined(); // file transfer is the add-on below

    // /switchboard-transfer.js adds file transfer to the global, sharing its SwitchboardError.
    const addOn = await fetch(`${base}/switchboard-transfer.js`);
    expect(addOn.status).toBe(200);
    expect(addOn.headers.get('x-switchboard-version')).toBe(version);
    runInNewContext(await addOn.text(), sandbox);
    expect(typeof Switchboard.sendFile).toBe('function');
    expect(typeof Switchboard.receiveFiles).toBe('function');
    expect(Switchboard.FILE_TRANSFER_CHANNEL).toMatchObject({ label: 'file-transfer', ordered: true });
    const refused = await (async () => Switchboard.sendFile(null, new Uint8Array(1)))().catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(Switchboard.SwitchboardError);
    expect(() => runInNewContext(readFileSync(join(clientDir, 'dist/cdn/switchboard-transfer.js'), 'utf8'), {})).toThrow(/Load \/switchboard\.js before/);

    const again = await fetch(`${base}/switchboard.js`, { headers: { 'if-none-match': etag! } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
    expect(again.headers.get('x-switchboard-version')).toBe(version);
  });

  it('module build and both source maps, gzip when accepted, HEAD without a body', async () => {
    const base = await serve();
    const mjs = await fetch(`${base}/switchboard.mjs`);
    expect(mjs.status).toBe(200);
    expect(await mjs.text()).toMatch(/export\s*\{[^}]*\bSwitchboard\b/);
    for (const name of ['switchboard.js.map', 'switchboard.mjs.map']) {
      const map = await fetch(`${base}/${name}`);
      expect(map.status).toBe(200);
      expect(map.headers.get('content-type')).toBe('application/json; charset=utf-8');
      const json = (await map.json()) as { sources: string[]; sourcesContent: string[] };
      expect(json.sources.length).toBeGreaterThan(10);
      expect(json.sourcesContent.length).toBe(json.sources.length);
    }
    // fetch() would decompress transparently: read the raw bytes with node:http instead.
    const { request } = await import('node:http');
    const raw = await new Promise<{ headers: Record<string, unknown>; body: Buffer }>((resolve, reject) => {
      request(`${base}/switchboard.js`, { headers: { 'accept-encoding': 'br;q=1, gzip;q=0.8' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c)).on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
      })
        .on('error', reject)
        .end();
    });
    expect(raw.headers['content-encoding']).toBe('gzip');
    expect(raw.headers['vary']).toBe('Accept-Encoding');
    expect(gunzipSync(raw.body).toString('utf8')).toBe(readFileSync(join(clientDir, 'dist/cdn/switchboard.js'), 'utf8'));
    const head = await fetch(`${base}/switchboard.mjs`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(Number(head.headers.get('content-length'))).toBeGreaterThan(10_000);
    expect(await head.text()).toBe('');
  });

  it('wins over a static directory holding a file of the same name; other paths still go to the directory', async () => {
    const staticDir = tempDir();
    writeFileSync(join(staticDir, 'switchboard.js'), 'window.notTheSdk = true;');
    writeFileSync(join(staticDir, 'app.js'), 'window.app = true;');
    const base = await serve({ staticDir });
    expect(await (await fetch(`${base}/switchboard.js`)).text()).not.toContain('notTheSdk');
    expect(await (await fetch(`${base}/app.js`)).text()).toBe('window.app = true;');
    expect((await fetch(`${base}/switchboard.js`, { method: 'POST' })).status).toBe(405);
  });
});
