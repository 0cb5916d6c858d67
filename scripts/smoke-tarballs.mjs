#!/usr/bin/env node
// Tarball smoke test: what a user gets from the registry, checked outside the workspace.
//  1. `npm pack` every package; each tarball has its LICENSE and no build info, every JS entry
//     in `exports` has types, the client depends on nothing Node-only, the CLI carries the demo.
//  2. In an empty project in the OS temp dir, `npm install` the tarballs (dependencies from the
//     npm cache or registry), then: every installed source map resolves; `npx switchboard --help`
//     runs; `switchboard serve --http --port 0` starts and serves /healthz, the demo and the SDK;
//     two Node clients (@switchboard/client/node) make a data call through it.
//  3. In a second empty project holding only the client (and protocol) tarballs: neither `ws` nor
//     `node-datachannel` is installed, and esbuild bundles a page importing @switchboard/client
//     with no Node-only module in the bundle.
// Needs `npm run build` first. Exits non-zero on the first failure. SMOKE_KEEP=1 keeps the temp dir.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('..', import.meta.url));
const PACKAGES = ['protocol', 'server', 'client', 'cli'];
const LIBRARIES = new Set(['protocol', 'server', 'client']);
const NODE_ONLY = ['ws', 'node-datachannel'];
const started = Date.now();
const work = mkdtempSync(join(tmpdir(), 'switchboard-smoke-'));
const children = new Set();

const log = (line) => console.log(`[smoke ${((Date.now() - started) / 1000).toFixed(1)}s] ${line}`);
function fail(message) {
  throw new Error(message);
}
function check(condition, message) {
  if (!condition) fail(message);
}

// npm passes its settings to scripts as npm_* variables; the temp projects must not inherit them.
const cleanEnv = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_/i.test(key)));
const npmEnv = { ...cleanEnv, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false' };

function run(cmd, args, cwd, timeoutMs = 120_000) {
  const result = spawnSync(cmd, args, { cwd, env: npmEnv, encoding: 'utf8', timeout: timeoutMs, maxBuffer: 64 << 20 });
  if (result.status !== 0) {
    fail(`${cmd} ${args.join(' ')} (in ${cwd}) exited with ${result.status ?? result.signal ?? result.error}:\n${result.stdout}\n${result.stderr}`);
  }
  return result.stdout;
}

function readJson(path) {
  return JSON.parse(readFileSync(path, 'utf8'));
}

function pack() {
  const destination = join(work, 'tarballs');
  mkdirSync(destination);
  const args = ['pack', '--json', '--pack-destination', destination, ...PACKAGES.flatMap((p) => ['-w', `@switchboard/${p}`])];
  const packed = JSON.parse(run('npm', args, repo));
  const tarballs = {};
  for (const name of PACKAGES) {
    const entry = packed.find((p) => p.name === `@switchboard/${name}`) ?? fail(`npm pack made no tarball for ${name}`);
    const files = new Set(entry.files.map((f) => f.path));
    const manifest = readJson(join(repo, 'packages', name, 'package.json'));
    check(files.has('LICENSE'), `${name}: no LICENSE in the tarball`);
    check(manifest.license === 'MIT', `${name}: package.json "license" is ${manifest.license}`);
    check(manifest.engines?.node, `${name}: no "engines.node"`);
    const buildInfo = [...files].filter((f) => /tsbuildinfo/.test(f));
    check(buildInfo.length === 0, `${name}: build info in the tarball: ${buildInfo.join(', ')}`);
    check(![...files].some((f) => f.startsWith('test/')), `${name}: tests in the tarball`);
    if (LIBRARIES.has(name)) {
      check(manifest.sideEffects === false, `${name}: "sideEffects" is not false`);
      for (const [subpath, target] of Object.entries(manifest.exports ?? {})) {
        if (subpath.endsWith('.json')) continue;
        check(typeof target === 'object' && typeof target.types === 'string', `${name}: exports["${subpath}"] has no "types"`);
        for (const file of Object.values(target)) check(files.has(file.replace(/^\.\//, '')), `${name}: exports["${subpath}"] → ${file} is not in the tarball`);
      }
    }
    tarballs[name] = join(destination, entry.filename);
    log(`packed ${entry.filename}: ${entry.entryCount} files, ${(entry.size / 1024).toFixed(0)} KiB`);
  }
  const client = readJson(join(repo, 'packages/client/package.json'));
  for (const dep of NODE_ONLY) {
    check(!client.dependencies?.[dep], `client: "${dep}" is a dependency (browser apps would install it)`);
    check(client.peerDependenciesMeta?.[dep]?.optional === true, `client: "${dep}" is not an optional peer dependency`);
  }
  const cliFiles = new Set(packed.find((p) => p.name === '@switchboard/cli').files.map((f) => f.path));
  check(cliFiles.has('dist/demo/index.html'), 'cli: the demo (dist/demo/index.html) is not in the tarball');
  const clientFiles = new Set(packed.find((p) => p.name === '@switchboard/client').files.map((f) => f.path));
  for (const f of ['dist/cdn/switchboard.js', 'dist/cdn/switchboard.js.map', 'dist/cdn/switchboard.mjs', 'dist/cdn/switchboard.mjs.map']) {
    check(clientFiles.has(f), `client: ${f} is not in the tarball`);
  }
  return tarballs;
}

function project(name, tarballs, extra = []) {
  const dir = join(work, name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `smoke-${name}`, private: true, type: 'module' }, null, 2));
  run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', ...tarballs, ...extra], dir, 180_000);
  const lock = readJson(join(dir, 'node_modules/.package-lock.json'));
  for (const [path, entry] of Object.entries(lock.packages)) {
    // The workspace's own packages must come from these tarballs, never from the registry.
    if (path.startsWith('node_modules/@switchboard/'))
      check(entry.resolved?.startsWith('file:'), `${name}: ${path} was not installed from a tarball (${entry.resolved})`);
  }
  return dir;
}

function* walk(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else yield path;
  }
}

/** Every source map in the installed packages points at files that are there (or embeds them). */
function checkSourceMaps(app) {
  let maps = 0;
  for (const name of PACKAGES) {
    const root = join(app, 'node_modules/@switchboard', name);
    for (const file of walk(root)) {
      const rel = relative(root, file);
      if (/\.(m?js|d\.ts)$/.test(file)) {
        const url = /\/\/# sourceMappingURL=(\S+)\s*$/.exec(readFileSync(file, 'utf8'))?.[1];
        if (url && !url.startsWith('data:')) check(existsSync(resolve(dirname(file), url)), `${name}/${rel}: its source map ${url} is missing`);
      }
      if (!file.endsWith('.map')) continue;
      maps += 1;
      const map = readJson(file);
      map.sources.forEach((source, i) => {
        if (typeof map.sourcesContent?.[i] === 'string') return;
        const target = resolve(dirname(file), map.sourceRoot ?? '', source);
        check(existsSync(target) && statSync(target).isFile(), `${name}/${rel}: source ${source} is not in the package`);
      });
    }
  }
  return maps;
}

function startServer(app) {
  const bin = join(app, 'node_modules/.bin/switchboard');
  const args = ['serve', '--http', '--host', '127.0.0.1', '--port', '0', '--data-dir', join(app, 'data'), '--log-level', 'warn'];
  const child = spawn(bin, args, { cwd: app, env: cleanEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let output = '';
  const exited = new Promise((resolveExit) =>
    child.once('exit', (code, signal) => {
      children.delete(child);
      resolveExit(code ?? signal);
    }),
  );
  const url = new Promise((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`switchboard serve printed no address in 20 s:\n${output}`)), 20_000);
    const onData = (chunk) => {
      output += chunk;
      const match = /Local:\s+(http:\/\/\S+?):(\d+)\//.exec(output);
      if (match) {
        clearTimeout(timer);
        resolveUrl(`http://127.0.0.1:${match[2]}`);
      }
    };
    child.stdout.setEncoding('utf8').on('data', onData);
    child.stderr.setEncoding('utf8').on('data', onData);
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`switchboard serve exited (${code}) before listening:\n${output}`));
    });
  });
  return { child, url, exited, output: () => output };
}

const CALL_SCRIPT = `
import { Switchboard } from '@switchboard/client/node';
const url = process.argv[2];
const timer = setTimeout(() => { console.error('data call timed out'); process.exit(1); }, 30_000);
const node = { bindAddress: '127.0.0.1' };
const alice = new Switchboard({ url, name: 'alice', node });
const bob = new Switchboard({ url, name: 'bob', node });
let bobClosed;
const closed = new Promise((r) => (bobClosed = r));
await bob.connectRealtime((event) => {
  if (event.type === 'rtc:incoming') {
    event.connectRTC({}, (e) => { if (e.type === 'message') e.target.send('echo:' + e.data); });
  }
  if (event.type === 'rtc:closed') bobClosed(event.message.reason);
});
await alice.connectRealtime(() => {});
await bob.joinRealtime({ group: 'smoke' });
await alice.joinRealtime({ group: 'smoke' });
let reply;
const replied = new Promise((r) => (reply = r));
const started = Date.now();
const call = await alice.connectRTC({ cid: bob.cid }, (e) => {
  if (e.type === 'open') e.target.send('ping');
  if (e.type === 'message') reply(e.data);
});
await call.connection;
const echoed = await replied;
const ms = Date.now() - started;
call.hangup();
const reason = await closed;
await alice.closeRealtime();
await bob.closeRealtime();
clearTimeout(timer);
console.log(JSON.stringify({ echoed, reason, ms }));
`;

const PAGE_SCRIPT = `
import { Switchboard } from '@switchboard/client';
import { sendFile } from '@switchboard/client/transfer';
window.skapi = new Switchboard({ url: location.origin });
window.sendFile = sendFile;
`;

async function main() {
  log(`temp dir ${work}`);
  for (const name of PACKAGES) check(existsSync(join(repo, 'packages', name, 'dist')), `packages/${name} is not built: run "npm run build" first`);
  check(existsSync(join(repo, 'packages/cli/dist/demo/index.html')), 'the demo is not built: run "npm run build" first');

  const tarballs = pack();

  // A Node app installs the Node entry's optional peers (ws, node-datachannel) itself.
  const peers = readJson(join(repo, 'packages/client/package.json')).peerDependencies;
  const app = project(
    'app',
    Object.values(tarballs),
    NODE_ONLY.map((dep) => `${dep}@${peers[dep]}`),
  );
  log('installed the four tarballs (and ws, node-datachannel) into an empty project');
  log(`source maps: ${checkSourceMaps(app)} checked, none dangling`);
  const help = run('npx', ['--no-install', 'switchboard', '--help'], app, 30_000);
  check(/Usage: switchboard <command>/.test(help), `npx switchboard --help printed:\n${help}`);

  const server = startServer(app);
  const base = await server.url;
  log(`npx switchboard serve is up at ${base}`);
  const health = await fetch(`${base}/healthz`);
  check(health.status === 200, `/healthz answered ${health.status}`);
  const home = await fetch(`${base}/`);
  check(home.status === 200 && (home.headers.get('content-type') ?? '').startsWith('text/html'), `/ (the demo) answered ${home.status}`);
  const version = readJson(join(app, 'node_modules/@switchboard/client/package.json')).version;
  for (const file of ['switchboard.js', 'switchboard.mjs']) {
    const res = await fetch(`${base}/${file}`);
    check(res.status === 200, `/${file} answered ${res.status}`);
    check(
      res.headers.get('x-switchboard-version') === version,
      `/${file}: X-Switchboard-Version ${res.headers.get('x-switchboard-version')}, expected ${version}`,
    );
    const body = await res.text();
    check(body === readFileSync(join(app, 'node_modules/@switchboard/client/dist/cdn', file), 'utf8'), `/${file} is not the installed SDK's file`);
  }
  log('/healthz, the demo, /switchboard.js and /switchboard.mjs served');

  writeFileSync(join(app, 'call.mjs'), CALL_SCRIPT);
  const call = JSON.parse(run('node', ['call.mjs', base], app, 40_000).trim().split('\n').pop());
  check(call.echoed === 'echo:ping' && call.reason === 'hangup', `data call: ${JSON.stringify(call)}`);
  log(`two Node clients: data call connected, echoed and hung up in ${call.ms} ms`);

  server.child.kill('SIGTERM');
  const code = await server.exited;
  check(code === 0, `switchboard serve exited with ${code} on SIGTERM:\n${server.output()}`);
  log('server stopped (exit 0)');

  const web = project('web', [tarballs.protocol, tarballs.client]);
  for (const dep of NODE_ONLY) check(!existsSync(join(web, 'node_modules', dep)), `installing @switchboard/client alone installed ${dep}`);
  writeFileSync(join(web, 'page.js'), PAGE_SCRIPT);
  const { build } = await import(join(repo, 'node_modules/esbuild/lib/main.js'));
  const bundle = await build({
    absWorkingDir: web,
    entryPoints: ['page.js'],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022'],
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
  const inputs = Object.keys(bundle.metafile.inputs);
  const nodeOnly = inputs.filter((i) => /(^|\/)node_modules\/(ws|node-datachannel)\//.test(i) || i.startsWith('node:'));
  check(nodeOnly.length === 0, `the browser bundle contains Node-only modules: ${nodeOnly.join(', ')}`);
  check(
    inputs.some((i) => i.includes('node_modules/@switchboard/client/')),
    'the browser bundle does not contain @switchboard/client',
  );
  log(`browser app: ${inputs.length} modules bundled by esbuild, ${(bundle.outputFiles[0].contents.length / 1024).toFixed(1)} KiB, no ws/node-datachannel`);
}

function cleanup() {
  for (const child of children) child.kill('SIGKILL');
  if (process.env.SMOKE_KEEP === '1') log(`kept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    console.error(`[smoke] stopped by ${signal}`);
    cleanup();
    process.exit(1);
  });
}

let status = 0;
try {
  await main();
  log('OK');
} catch (err) {
  console.error(`[smoke] FAILED: ${err.message}`);
  status = 1;
} finally {
  cleanup();
}
process.exit(status);
