/**
 * Static hosting never hands out secrets: dotfiles and dot-directories, the data dir
 * (whatever it is named), the TLS key, and anything a symlink reaches outside the root
 * answer 404 however the path is encoded, for GET and HEAD; ordinary files are served.
 */
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createServer, ensureSelfSigned, type SwitchboardConfigInput } from '../src/index.js';
import { LOG_LEVEL, tempDir, useCleanup } from './helpers.js';

useCleanup();
const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

/** One raw request: the path goes on the wire exactly as written (no client-side normalisation). */
function raw(base: string, method: 'GET' | 'HEAD', path: string): Promise<{ status: number; body: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: hostname, port, method, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function serve(config: SwitchboardConfigInput): Promise<string> {
  const server = createServer({ host: '127.0.0.1', tls: { mode: 'off' }, logLevel: LOG_LEVEL, ...config });
  stops.push(() => server.close());
  return (await server.listen(0, '127.0.0.1')).url;
}

/** base/site is the static root; base/outside.txt and base/private/ lie outside it. */
function site(): { base: string; root: string } {
  const base = tempDir();
  const root = join(base, 'site');
  mkdirSync(join(root, 'sub'), { recursive: true });
  mkdirSync(join(root, '.git'));
  mkdirSync(join(base, 'private'));
  writeFileSync(join(root, 'index.html'), '<!doctype html><title>site</title>');
  writeFileSync(join(root, 'app.min.js'), 'console.log("app")');
  writeFileSync(join(root, 'sub', 'index.html'), '<p>sub</p>');
  writeFileSync(join(root, '.git', 'config'), '[remote "origin"] url = git@secret');
  writeFileSync(join(root, '.env'), 'API_KEY=secret-env');
  writeFileSync(join(base, 'outside.txt'), 'outside-secret');
  writeFileSync(join(base, 'private', 'notes.txt'), 'private-secret');
  symlinkSync(join(base, 'outside.txt'), join(root, 'link-out.txt'));
  symlinkSync(join(base, 'private'), join(root, 'link-dir'));
  symlinkSync(join(root, '.git', 'config'), join(root, 'sub', 'link-git.txt'));
  symlinkSync(join(root, 'app.min.js'), join(root, 'link-ok.js'));
  return { base, root };
}

const ENCODINGS = (dir: string, file: string): string[] => [
  `/${dir}/${file}`,
  `/${dir}%2f${file}`,
  `/${dir}%2F${file}`,
  `/${dir.replace(/^\./, '%2e')}/${file}`,
  `/${dir.replace(/^\./, '%2E')}%2F${file}`,
  `/${dir.replace(/^\./, '%252e')}/${file}`,
  `/${dir}%252f${file}`,
  `/sub/..%2f${dir}/${file}`,
  `/sub/%2e%2e/${dir}/${file}`,
  `/sub%5c..%5c${dir}%5c${file}`,
  `/\\${dir}\\${file}`,
  `/sub/%2e%2e%2f${dir}%2f${file}`,
  `/${dir}/${file}%00.html`,
];

const OUTSIDE = [
  '/../outside.txt',
  '/..%2foutside.txt',
  '/%2e%2e/outside.txt',
  '/%2e%2e%2foutside.txt',
  '/%252e%252e%252foutside.txt',
  '/sub/..%2f..%2foutside.txt',
  '/..%5coutside.txt',
  '/link-out.txt',
  '/link-dir/notes.txt',
  '/link-dir/',
  '/sub/link-git.txt',
  '/.git/',
  '/.git',
  '/.env',
  '/%2eenv',
  '/%00',
];

async function expectAll404(base: string, paths: string[], secrets: string[]): Promise<void> {
  for (const path of paths) {
    for (const method of ['GET', 'HEAD'] as const) {
      const res = await raw(base, method, path);
      expect({ method, path, status: res.status }).toEqual({ method, path, status: 404 });
      for (const secret of secrets) expect(res.body).not.toContain(secret);
    }
  }
}

async function expectServed(base: string): Promise<void> {
  for (const [path, text] of [
    ['/', 'site'],
    ['/index.html', 'site'],
    ['/app.min.js', 'app'],
    ['/sub/', 'sub'],
    ['/sub', 'sub'],
    ['/link-ok.js', 'app'],
    ['/%61pp.min.js', 'app'],
  ]) {
    const res = await raw(base, 'GET', path!);
    expect({ path, status: res.status }).toEqual({ path, status: 200 });
    expect(res.body).toContain(text);
    expect((await raw(base, 'HEAD', path!)).status).toBe(200);
  }
}

describe('static hosting', () => {
  it('never serves the default data dir, .git, dotfiles or symlinks out of the root, however encoded', async () => {
    const { root } = site();
    const dataDir = join(root, '.switchboard');
    const url = await serve({ staticDir: root, dataDir }); // no secrets configured: one is generated in dataDir
    await ensureSelfSigned(dataDir);
    const secret = readFileSync(join(dataDir, 'secret'), 'utf8').trim();
    const key = readFileSync(join(dataDir, 'tls', 'key.pem'), 'utf8');
    const secrets = [secret, key.split('\n')[1]!, 'git@secret', 'secret-env', 'outside-secret', 'private-secret'];
    await expectAll404(
      url,
      [
        ...ENCODINGS('.switchboard', 'secret'),
        ...ENCODINGS('.switchboard', 'tls/key.pem'),
        ...ENCODINGS('.switchboard', 'tls%2fkey.pem'),
        ...ENCODINGS('.git', 'config'),
        ...OUTSIDE,
      ],
      secrets,
    );
    await expectServed(url);
  });

  it('never serves a data dir without a dot in its name, nor the TLS files, even through a symlink', async () => {
    const { root } = site();
    const dataDir = join(root, 'state');
    mkdirSync(dataDir);
    symlinkSync(dataDir, join(root, 'alias'));
    symlinkSync(join(dataDir, 'secret'), join(root, 'secret-link.txt'));
    const tls = await ensureSelfSigned(tempDir());
    writeFileSync(join(root, 'cert.pem'), tls.cert);
    writeFileSync(join(root, 'key.pem'), tls.key);
    // tls.mode stays "off": the cert/key settings alone mark the files as never served.
    const url = await serve({ staticDir: root, dataDir, tls: { mode: 'off', cert: join(root, 'cert.pem'), key: join(root, 'key.pem') } });
    const secret = readFileSync(join(dataDir, 'secret'), 'utf8').trim();
    await expectAll404(
      url,
      [
        '/state/secret',
        '/state/',
        '/state',
        '/alias/secret',
        '/secret-link.txt',
        '/%73tate/secret',
        '/state%2fsecret',
        '/sub/..%2fstate/secret',
        '/key.pem',
        '/%6bey.pem',
        '/cert.pem',
      ],
      [secret, tls.key.split('\n')[1]!],
    );
    await expectServed(url);
  });
});
