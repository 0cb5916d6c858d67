/**
 * The doctor's WebRTC probes run in child processes with a hard deadline (libdatachannel can
 * deadlock natively, and a blocked event loop has no timer left to stop it). Stand-in children
 * hang, hang once, crash and answer; the real child answers a request it cannot serve.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseIceUrl } from '../src/commands/ice-urls.js';
import { runRelayProbe, type ProbeRequest } from '../src/commands/relay-probe-process.js';

const dir = mkdtempSync(join(tmpdir(), 'sb-relay-probe-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const request: ProbeRequest = {
  kind: 'gather',
  url: parseIceUrl('turn:127.0.0.1:9?transport=udp'),
  creds: { username: '1:u', credential: 'c' },
  timeoutMs: 300,
};

function script(name: string, body: string): string {
  const file = join(dir, name);
  writeFileSync(file, body);
  return file;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('relay probes in a child process', () => {
  it('a child whose event loop never comes back is killed at the deadline, twice, and reported as hung', async () => {
    const pids = join(dir, 'pids');
    const hang = script('hang.mjs', `import { appendFileSync } from 'node:fs'; appendFileSync(${JSON.stringify(pids)}, process.pid + '\\n'); for (;;) {}`);
    const started = performance.now();
    const outcome = await runRelayProbe(request, { script: hang, deadlineMs: 700 });
    const ms = performance.now() - started;
    expect(outcome).toEqual({ kind: 'hung', deadlineMs: 700, attempts: 2 });
    expect(ms).toBeGreaterThanOrEqual(1_400);
    expect(ms).toBeLessThan(10_000);
    const childPids = readFileSync(pids, 'utf8').trim().split('\n').map(Number);
    expect(childPids).toHaveLength(2);
    await new Promise((r) => setTimeout(r, 100));
    expect(childPids.filter(alive)).toEqual([]);
  });

  it('a child that hangs once: the second run answers, and that answer is the outcome', async () => {
    const marker = join(dir, 'ran-once');
    const answer = { kind: 'gather', result: { relay: ['candidate:1 1 UDP 1 127.0.0.2 5000 typ relay'], ms: 12, timedOut: false } };
    const once = script(
      'once.mjs',
      `import { existsSync, writeFileSync } from 'node:fs';
       const marker = ${JSON.stringify(marker)};
       if (!existsSync(marker)) { writeFileSync(marker, ''); for (;;) {} }
       const request = JSON.parse(process.argv[2]);
       process.stdout.write(JSON.stringify(request.kind === 'gather' ? ${JSON.stringify(answer)} : null) + '\\n');`,
    );
    expect(await runRelayProbe(request, { script: once, deadlineMs: 700 })).toEqual(answer);
    expect(existsSync(marker)).toBe(true);
  });

  it('an answer followed by a crash on the way out still counts; a crash before it is reported with its last words', async () => {
    const answer = { kind: 'loop', result: { ok: true, ms: 5, pair: 'relay/relay', detail: 'data channel echo through the relay' } };
    const answerThenAbort = script('abort.mjs', `process.stdout.write(${JSON.stringify(JSON.stringify(answer) + '\n')}, () => process.abort());`);
    expect(await runRelayProbe({ ...request, kind: 'loop' }, { script: answerThenAbort, deadlineMs: 5_000 })).toEqual(answer);

    const crash = script('crash.mjs', `console.error('native stack gone'); process.exit(3);`);
    expect(await runRelayProbe(request, { script: crash, deadlineMs: 5_000 })).toEqual({
      kind: 'crashed',
      detail: 'the probe process exited (code 3) without an answer: native stack gone',
    });
  });

  it('the real child: node-datachannel gathers nothing from a TURN port where nothing listens, and says so within the timeout', async () => {
    const outcome = await runRelayProbe(request);
    expect(outcome).toMatchObject({ kind: 'gather', result: { relay: [] } });
  });

  it('a child that answers something other than JSON is reported as crashed, saying what it printed', async () => {
    const garbage = script('garbage.mjs', `process.stdout.write('Segmentation fault (core dumped)\\n');`);
    const outcome = await runRelayProbe(request, { script: garbage, deadlineMs: 5_000 });
    expect(outcome).toMatchObject({ kind: 'crashed', detail: expect.stringContaining('Segmentation fault') });
  });
});
