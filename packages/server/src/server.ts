/**
 * createServer(config): the composition root. Wires config, store, delivery,
 * call registry, ICE, metrics and logs into the HTTP handler and the upgrade.
 */
import { randomBytes } from 'node:crypto';
import { createServer as createHttpServer, type Server as HttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Agent as HttpsAgent } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { REALTIME_PATH, SUBPROTOCOL, type Limits } from '@switchboard/protocol';
import { WebSocketServer } from 'ws';
import { resolveSecrets } from './auth/secrets.js';
import { createTokenAuthority, type TokenAuthority } from './auth/tokens.js';
import { DEFAULT_STUN_PORT, resolveConfig, type SwitchboardConfig, type SwitchboardConfigInput } from './config.js';
import { Connection } from './connection/connection.js';
import { Heartbeat } from './connection/heartbeat.js';
import type { ServerContext } from './context.js';
import { createRequestHandler } from './http/api.js';
import { loadTls, type TlsMaterial } from './http/tls.js';
import { createUpgradeHandler } from './http/upgrade.js';
import { createLogger, type Logger } from './logger.js';
import { listenError } from './startup-error.js';
import { createMetrics } from './metrics.js';
import { createCallRegistry } from './rtc/call-registry.js';
import { createRedisCluster, type RedisCluster } from './cluster/index.js';
import { handleDisconnect } from './handlers/index.js';
import { createMemoryReplayStore, createResumeTokens, replayLimits, type ReplayStore } from './resume/index.js';
import { createLocalDelivery, type Delivery } from './state/delivery.js';
import { createMemoryStore } from './state/memory-store.js';
import { pushFor } from './push/index.js';
import type { Store } from './state/store.js';
import { startStun, type StunResponder } from './stun/responder.js';
import { createIceProvider } from './turn/credentials.js';

/** How often away connections are checked for the end of their resume window. */
const SWEEP_MS = 1_000;

/** Optional collaborators (not settings): a logger, or other state/delivery adapters. */
export interface ServerRuntime {
  logger?: Logger;
  store?: Store;
  delivery?: Delivery;
  /** The https.Agent Web Push requests go through (e.g. one trusting a private CA). */
  pushAgent?: HttpsAgent;
}

export interface ListenAddress {
  protocol: 'http' | 'https';
  /** The bound host as given (e.g. 0.0.0.0). */
  host: string;
  port: number;
  /** Base URL for clients on this machine, e.g. `http://127.0.0.1:53211`. */
  url: string;
  /** WebSocket URL of the realtime endpoint. */
  realtimeUrl: string;
  /** SHA-256 fingerprint of the TLS certificate, when HTTPS. */
  fingerprint: string | null;
  /** Path of the certificate in use, when HTTPS. */
  certPath: string | null;
  /** The UDP port of the server's own STUN responder; null when stun.enabled is false. */
  stunPort: number | null;
}

export interface SwitchboardServer {
  readonly config: SwitchboardConfig;
  readonly node: string;
  /** Starts an HTTP(S) server (per `config.tls`) and listens; defaults to config.port/config.host. */
  listen(port?: number, host?: string): Promise<ListenAddress>;
  /**
   * Serves on an existing server. With `http: false` only the WebSocket upgrade is
   * attached; mount `handleRequest` in your own request handler for the HTTP API.
   */
  attach(server: HttpServer, options?: { http?: boolean }): void;
  handleRequest(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** Graceful: stop accepting, close every socket with 4000 (SERVER_SHUTDOWN), then close HTTP. */
  close(): Promise<void>;
  /** Signs a token with the server's first secret. */
  issueToken(claims: { user_id: string; name?: string | null; ttlSeconds?: number }): Promise<string>;
  /** Open connections on this node. */
  connectionCount(): number;
  /**
   * Resolves once the node can serve: immediately on a single node; with `redis`, once it is
   * connected and registered (rejects with ClusterStartError, naming the URL without its
   * password). `listen()` waits for it; after `attach()`, await it before taking traffic.
   */
  ready(): Promise<void>;
}

export function createServer(input: SwitchboardConfigInput = {}, runtime: ServerRuntime = {}): SwitchboardServer {
  const config = resolveConfig(input);
  const secrets = resolveSecrets(config);
  const { jwks, issuer, audience } = config.auth;
  const auth: TokenAuthority = createTokenAuthority(secrets, jwks ? { url: jwks, issuer, audience } : null);
  const log = runtime.logger ?? createLogger(config.logLevel);
  const node = config.nodeId ?? `node-${randomBytes(4).toString('hex')}`;
  const metrics = createMetrics(async () => (await store.counts()).groups);
  const custom = runtime.store !== undefined || runtime.delivery !== undefined;
  if (config.redis !== null && custom) log.warn('redis is set but a store/delivery was passed in: using those');
  // Resume needs our own delivery (it numbers and buffers frames) and a secret to sign its tokens.
  const resumeOn = config.resume.windowMs > 0 && !custom && secrets.length > 0;
  const limits = resumeOn ? replayLimits(config) : null;
  const cluster: RedisCluster | null =
    config.redis !== null && !custom
      ? createRedisCluster({ url: config.redis, node, ...config.cluster, log, registry: metrics.registry, replay: limits })
      : null;
  const replay: ReplayStore | null = limits ? (cluster ? cluster.replay : createMemoryReplayStore(limits)) : null;
  const store = runtime.store ?? cluster?.store ?? createMemoryStore();
  const delivery = runtime.delivery ?? cluster?.delivery ?? createLocalDelivery(replay ?? undefined);
  const {
    maxBufferedBytes: _b,
    maxRingingCalls: _r,
    maxActiveCalls: _a,
    maxConnectionsPerAddress: _ca,
    guestTokensPerMinute: _gt,
    httpListingsPerMinute: _hl,
    ...wire
  } = config.limits;
  const wireLimits: Limits = { ...wire, heartbeatMs: config.heartbeatMs };
  let stun: StunResponder | null = null;
  const ctx: ServerContext = {
    config,
    wireLimits,
    node,
    store,
    delivery,
    calls: createCallRegistry(store, { maxRingingCalls: config.limits.maxRingingCalls, maxActiveCalls: config.limits.maxActiveCalls }),
    ice: createIceProvider(config.ice, (local) => stun?.url(local) ?? null),
    metrics,
    log,
    push: pushFor(config, {
      clustered: cluster !== null,
      connections: (userId) => store.countUserConnections(userId),
      registry: metrics.registry,
      log,
      agent: runtime.pushAgent,
    }),
    cluster,
    resume: replay ? { replay, tokens: createResumeTokens(secrets), local: new Map() } : null,
  };

  const connections = new Set<Connection>();
  const heartbeat = new Heartbeat(config.heartbeatMs);
  const startedAt = Date.now();
  let shuttingDown = false;
  let closing: Promise<void> | null = null;
  let owned: HttpServer | null = null;
  const attached: {
    server: HttpServer;
    request?: (req: IncomingMessage, res: ServerResponse) => void;
    upgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
  }[] = [];

  cluster?.bind({
    reap: (cid, fallback) => handleDisconnect(ctx, cid, fallback),
    // Its socket vanished with its node: resumable for the window (the sweep ends it), else gone now.
    gone: async (cid) => {
      if (!(await replay?.orphan(cid))) await handleDisconnect(ctx, cid);
    },
    nodeLost: () => {
      for (const connection of connections) connection.closeWith('NODE_LOST', 'This node lost its place in the cluster; reconnect.');
    },
  });
  // Away connections whose window passed: the usual disconnect. In a cluster every node sweeps
  // (the store hands each cid to one of them), so the sweep survives the node that held it.
  let sweeping = false;
  const sweep = replay
    ? setInterval(() => {
        if (sweeping || shuttingDown) return;
        sweeping = true;
        void replay
          .expired()
          .then((cids) => Promise.all(cids.map((cid) => handleDisconnect(ctx, cid))))
          .catch((err: unknown) => log.debug({ err: (err as Error).message }, 'resume sweep failed'))
          .finally(() => (sweeping = false));
      }, SWEEP_MS)
    : null;
  sweep?.unref();
  let starting: Promise<void> | null = null;
  const ready = (): Promise<void> => (starting ??= cluster ? cluster.start() : Promise.resolve());

  const wss = new WebSocketServer({
    noServer: true,
    // Hard ceiling; frames between maxFrameBytes and this get PAYLOAD_TOO_LARGE, larger ones close with 1009.
    maxPayload: config.limits.maxFrameBytes * 4,
    perMessageDeflate: false,
    clientTracking: false,
    handleProtocols: (protocols) => (protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
  });

  /** One context per local address connections arrive on (a handful), not a copy per connection. */
  const byLocalAddress = new Map<string | undefined, ServerContext>();
  const contextFor = (local: string | undefined): ServerContext => {
    let own = byLocalAddress.get(local);
    if (own === undefined) {
      own = { ...ctx, ice: { forUser: (user, now) => ctx.ice.forUser(user, now, local) } };
      byLocalAddress.set(local, own);
    }
    return own;
  };

  const forget = (connection: Connection): void => {
    connections.delete(connection);
    heartbeat.remove(connection);
  };
  const handleRequest = createRequestHandler({ ctx, auth, startedAt, connectionCount: () => connections.size });
  const handleUpgrade = createUpgradeHandler({
    ctx,
    auth,
    wss,
    isShuttingDown: () => shuttingDown,
    onConnection(ws, socket, cid, session, resume) {
      // The connection's ICE list carries the STUN URL for the address this socket arrived on.
      const own = contextFor((socket as { localAddress?: string }).localAddress);
      const connection = new Connection(ws, socket, { cid, user: session.user, tokenExpiresAt: session.expiresAt, resume, onDone: forget }, own);
      connections.add(connection);
      heartbeat.add(connection);
    },
  });

  function attach(server: HttpServer, options: { http?: boolean } = {}): void {
    const upgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      handleUpgrade(req, socket, head).catch((err: unknown) => {
        log.error({ err }, 'upgrade failed');
        socket.destroy();
      });
    };
    const entry: (typeof attached)[number] = { server, upgrade };
    server.on('upgrade', upgrade);
    if (options.http !== false) {
      entry.request = (req, res) => {
        handleRequest(req, res).catch((err: unknown) => {
          log.error({ err }, 'request failed');
          res.destroy();
        });
      };
      server.on('request', entry.request);
    }
    attached.push(entry);
    // Until the cluster is up, upgrades answer 503 SERVER_UNAVAILABLE (the store cannot count connections).
    ready().catch((err: unknown) => log.error({ err: (err as Error).message }, 'cluster start failed'));
  }

  async function listen(port = config.port, host = config.host): Promise<ListenAddress> {
    if (owned) throw new Error('listen() was already called');
    await ready();
    const tls: TlsMaterial | null = await loadTls(config);
    const server = tls ? createHttpsServer({ cert: tls.cert, key: tls.key }) : createHttpServer();
    owned = server;
    attach(server);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    }).catch((err: unknown) => {
      throw listenError(err, port, host);
    });
    if (config.stun.enabled) {
      // An ephemeral HTTP port (tests, several servers in one process) means an ephemeral STUN port
      // too, unless stun.port was changed from the default.
      const stunPort = port === 0 && config.stun.port === DEFAULT_STUN_PORT ? 0 : config.stun.port;
      const { perAddressPerSecond } = config.stun;
      stun = await startStun({
        host: config.stun.host ?? host,
        port: stunPort,
        perAddressPerSecond,
        publicUrl: config.publicUrl,
        registry: metrics.registry,
        log,
      }).catch(async (err: unknown) => {
        await new Promise((resolve) => server.close(resolve));
        throw err;
      });
    }
    const address = server.address() as AddressInfo;
    const protocol = tls ? 'https' : 'http';
    const local = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : address.family === 'IPv6' ? `[${address.address}]` : address.address;
    const url = `${protocol}://${local}:${address.port}`;
    log.info({ url, node, tls: tls ? (tls.selfSigned ? 'self-signed' : 'files') : 'off' }, 'listening');
    return {
      protocol,
      host,
      port: address.port,
      url,
      realtimeUrl: `${protocol === 'https' ? 'wss' : 'ws'}://${local}:${address.port}${REALTIME_PATH}`,
      fingerprint: tls?.fingerprint ?? null,
      certPath: tls?.certPath ?? null,
      stunPort: stun?.port ?? null,
    };
  }

  async function shutdown(): Promise<void> {
    shuttingDown = true;
    const httpClosed = owned ? new Promise<void>((resolve) => owned!.close(() => resolve())) : Promise.resolve();
    if (sweep) clearInterval(sweep);
    const open = [...connections];
    // A cluster node hands its connections over: away, for their clients to resume on another node.
    // A single node takes its state with it (its clients' tokens get epoch_changed): disconnect as ever.
    if (cluster && replay) await Promise.all(open.map((c) => c.handOff()));
    for (const connection of open) connection.closeWith('SERVER_SHUTDOWN', 'Server shutting down.', 2_000);
    await Promise.all(open.map((c) => c.done));
    heartbeat.stop();
    for (const { server, request, upgrade } of attached) {
      server.off('upgrade', upgrade);
      if (request) server.off('request', request);
    }
    if (owned) owned.closeAllConnections();
    await httpClosed;
    wss.close();
    await ctx.push?.close();
    await delivery.close();
    await store.close();
    if (!cluster) await replay?.close();
    await cluster?.close(true);
    await stun?.close();
    log.info({ node }, 'closed');
  }

  return {
    config,
    node,
    listen,
    attach,
    handleRequest,
    close: () => (closing ??= shutdown()),
    issueToken: (claims) => auth.sign({ ttlSeconds: 3600, ...claims }).then((r) => r.token),
    connectionCount: () => connections.size,
    ready,
  };
}
