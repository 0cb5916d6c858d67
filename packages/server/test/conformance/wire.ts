/**
 * The conformance suite's tools: the golden fixtures of packages/protocol, a connection that
 * reads the server's frames in order, and the explicit normalisation of what the server
 * generates (cids, TURN credentials and expiries, resume tokens, seq numbers).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeServerMessage, parseResult, type RequestType } from '@switchboard/protocol';
import { expect } from 'vitest';
import type { Frame, TestClient } from '../helpers.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'protocol', 'test', 'fixtures');

export interface ValidFixture {
  side: 'client' | 'server';
  frame: Record<string, unknown>;
  resultOf?: RequestType;
}
export interface InvalidFixture {
  side: 'client' | 'server';
  frame: string;
  code: string;
  id?: number | null;
  path?: string;
}

export function loadFixtures<T>(dir: 'valid' | 'invalid'): Map<string, T> {
  const folder = join(FIXTURES, dir);
  const names = readdirSync(folder)
    .filter((name) => name.endsWith('.json'))
    .sort();
  return new Map(names.map((name) => [name.replace(/\.json$/, ''), JSON.parse(readFileSync(join(folder, name), 'utf8')) as T]));
}

/** Fixture frames name connections by placeholder cids; the scenario says whose real cid goes there. */
export type Roles = Map<string, string>; // real cid → user_id

const clone = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;

/**
 * What the server generates, made comparable. Applied to the fixture and to the server's frame alike:
 * - a cid stands for its connection: `cid:<user_id>` (the server's by the connections the scenario
 *   opened; the fixture's by the user_id beside it: `sender`, `user_id`, `user.user_id`);
 * - TURN credentials: username `<expiry>:<user_id>` keeps the user, the HMAC and every `iceExpiresAt` go;
 *   `urls: "x"` is the one-element list `["x"]` (RTCIceServer allows both; the server sends lists);
 * - welcome: `resume` (an opaque token) and `replayTo` (a seq); guest ids `guest-…`;
 * - `seq` is checked apart (present in the fixture ⇒ a positive integer on the wire) and dropped.
 */
export function normalise(frame: Record<string, unknown>, roles: Roles | null): Record<string, unknown> {
  const out = clone(frame);
  delete out['seq'];
  // Guest ids are random too: a guest's connection is `cid:guest-<id>`.
  const asCid = (user: unknown) => (String(user).startsWith('guest-') ? 'cid:guest-<id>' : `cid:${String(user)}`);
  const walk = (value: unknown): unknown => {
    if (typeof value === 'string') return roles && value.startsWith('cid:') ? asCid(roles.get(value) ?? '?') : value;
    if (Array.isArray(value)) return value.map(walk);
    if (typeof value !== 'object' || value === null) return value;
    const record = value as Record<string, unknown>;
    if (!roles) {
      const owner = record['sender'] ?? record['user_id'] ?? (record['user'] as Record<string, unknown> | undefined)?.['user_id'];
      for (const key of ['cid', 'sender_cid']) if (typeof record[key] === 'string') record[key] = asCid(owner);
    }
    for (const [key, item] of Object.entries(record)) record[key] = walk(item);
    if (typeof record['iceExpiresAt'] === 'number') record['iceExpiresAt'] = '<unix ms>';
    if (typeof record['urls'] === 'string') record['urls'] = [record['urls']];
    if (typeof record['username'] === 'string') record['username'] = record['username'].replace(/^\d+:/, '<expiry>:');
    if (typeof record['credential'] === 'string') record['credential'] = '<hmac>';
    if (typeof record['resume'] === 'string') record['resume'] = '<token>';
    if (typeof record['replayTo'] === 'number') record['replayTo'] = '<seq>';
    if (typeof record['user_id'] === 'string' && record['user_id'].startsWith('guest-')) record['user_id'] = 'guest-<id>';
    return record;
  };
  return walk(out) as Record<string, unknown>;
}

/** A connection of the scenario: frames are read in order (unsolicited `ice` pushes apart). */
export class Wire {
  /** Request type by id, to check each ack against the result schema of its request. */
  private readonly requests = new Map<number, RequestType>();

  constructor(
    readonly name: string,
    readonly client: TestClient,
    readonly cid: string,
    private readonly suite: Suite,
  ) {}

  /** Sends a client fixture as it is, or with its placeholder `to` replaced by a connection's real cid. */
  send(fixture: string, to?: Wire): void {
    const frame = clone(this.suite.valid(fixture, 'client').frame);
    if (to) frame['to'] = to.cid;
    if (typeof frame['id'] === 'number' && frame['type'] !== 'ping') this.requests.set(frame['id'], frame['type'] as RequestType);
    this.suite.sent.add(fixture);
    this.client.send(frame);
  }

  sendRaw(frame: Record<string, unknown> | string): void {
    if (typeof frame === 'object' && typeof frame['id'] === 'number') this.requests.set(frame['id'], frame['type'] as RequestType);
    this.client.send(frame);
  }

  /** The next frame, decoded by the full codec, its ack result checked against its request's result schema. */
  async next(): Promise<Frame> {
    const frame = await this.client.waitFor((f) => f.type !== 'ice', 10_000);
    this.check(frame);
    return frame;
  }

  async nextIce(): Promise<Frame> {
    const frame = await this.client.waitFor('ice', 10_000);
    this.check(frame);
    return frame;
  }

  /** The next frame is the golden server frame `fixture` (modulo normalise()). */
  async expect(fixture: string, frame?: Frame): Promise<void> {
    const actual = frame ?? (await this.next());
    const golden = this.suite.valid(fixture, 'server').frame;
    if (golden['seq'] !== undefined) expect(actual['seq'], `${fixture}: seq`).toEqual(expect.any(Number));
    expect(normalise(actual, this.suite.roles), `${this.name} ← ${fixture}`).toEqual(normalise(golden, null));
    this.suite.matched.add(fixture);
  }

  /** The next frame matches `partial` (frames no fixture describes: the relayed copy of a sent one, …). */
  async expectLike(partial: Record<string, unknown>): Promise<Frame> {
    const frame = await this.next();
    expect(frame, this.name).toMatchObject(partial);
    return frame;
  }

  /** Nothing else was sent to this connection: the next frame is the pong to a fresh ping. */
  async expectQuiet(): Promise<void> {
    const ts = Math.random();
    this.client.send({ type: 'ping', ts });
    expect(await this.next(), `${this.name}: nothing more`).toEqual({ type: 'pong', ts });
  }

  private check(frame: Frame): void {
    const decoded = decodeServerMessage(JSON.stringify({ ...frame, seq: frame['seq'] }));
    expect(decoded.ok, `${this.name}: ${JSON.stringify(frame).slice(0, 200)} decodes`).toBe(true);
    if (frame.type !== 'ack') return;
    const type = this.requests.get(frame['id'] as number);
    expect(type, `ack ${String(frame['id'])} answers a request sent`).toBeDefined();
    expect(parseResult(type!, frame['result']), `ack of ${type}`).toEqual({ ok: true, value: frame['result'] });
    this.suite.ackedTypes.add(type!);
  }
}

/** The fixtures, which ones were sent and matched, and whose cid is whose. */
export class Suite {
  readonly validFixtures = loadFixtures<ValidFixture>('valid');
  readonly invalidFixtures = loadFixtures<InvalidFixture>('invalid');
  readonly roles: Roles = new Map();
  readonly sent = new Set<string>();
  readonly matched = new Set<string>();
  readonly ackedTypes = new Set<RequestType>();

  valid(name: string, side: 'client' | 'server'): ValidFixture {
    const fixture = this.validFixtures.get(name);
    if (!fixture || fixture.side !== side) throw new Error(`no ${side} fixture ${name}`);
    return fixture;
  }

  /** Wraps a connection once its welcome arrived (the welcome itself is left to the scenario). */
  async wire(name: string, client: TestClient): Promise<{ wire: Wire; welcome: Frame }> {
    const welcome = await client.welcome;
    this.check(welcome);
    const cid = welcome['cid'] as string;
    this.roles.set(cid, (welcome['user'] as { user_id: string }).user_id);
    return { wire: new Wire(name, client, cid, this), welcome };
  }

  private check(frame: Frame): void {
    expect(decodeServerMessage(JSON.stringify(frame)).ok, 'welcome decodes').toBe(true);
  }
}
