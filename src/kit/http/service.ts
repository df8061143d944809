import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import Fastify, { LogController, type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { settingsView } from '../config.ts';
import { RATE_LIMIT_SCALE_SETTING } from '../common-settings.ts';
import { readSettings } from '../part-settings.ts';
import { capabilityStatement, operationDefinitions } from '../fhir/capability.ts';
import { KitError, LdnError } from '../errors.ts';
import { HttpError, operationOutcome } from '../fhir/outcome.ts';
import { createLogger, scrubDigits } from '../log.ts';
import type { NetworkView, PartContext, PartDefinition, Peer, TlsIdentity } from '../part.ts';
import { ephemeralKek, type KeyEncryptionKey, kekFromSettings } from '../keys/key-encryption-key.ts';
import { partKeys } from '../keys/part-keys.ts';
import { openStore } from '../store/open.ts';
import type { Store } from '../store/store.ts';
import { continueTrace, formatTraceparent } from '../trace.ts';
import { peerRefusal } from './certificate-status.ts';
import { checkBody, checkUrl } from './edge.ts';
import { MethodTable } from './method-table.ts';
import { refuseUnservableFormat } from './negotiation.ts';
import { installHealth, installMetrics, instanceName, type ReadinessCheck, serveMetrics, storeCheck } from './operability.ts';
import { peerFromDer, peerOf, thumbprintOf } from './peer.ts';
import { registerRateLimits } from './rate-limits.ts';
import { applyServerLimits, fastifyLimitOptions, SERVER_LIMITS } from './server-limits.ts';

// The service factory: wraps a part in HTTPS with mutual TLS. TLS accepts any client so that
// refusals are explained (401 OperationOutcome) instead of a bare handshake alert; every path
// not declared public requires a certificate chained to the network CA.

export interface ServiceOptions {
  tls: TlsIdentity;
  network: NetworkView;
  host?: string;
  /** 0 = any free port. */
  port?: number;
  /** Public base URL when behind a proxy; default https://<host>:<port>. */
  publicUrl?: string;
  databaseUrl?: string;
  /** PGlite data directory (omitted = in memory). */
  dataDir?: string;
  /** Directory for files the part keeps besides its store (keys); default: none (memory only). */
  filesDir?: string;
  /** Bring your own store (tests, or a shared instance). Closed with the service unless ownStore is false. */
  store?: Store;
  settings?: Record<string, string | undefined>;
  log?: Logger;
  bodyLimit?: number;
  /** Refuses a peer whose participant is revoked or suspended: return a reason to refuse, or null. */
  peerGuard?: (peer: Peer) => Promise<string | null>;
  /** Log one line per request (the CLI's --verbose); default: LDN_LOG_REQUESTS=1. */
  logRequests?: boolean;
  /** Key-encryption key for the part's stored keys when its settings name none (the sandbox's). */
  keyEncryptionKey?: KeyEncryptionKey;
  /** Bound on finishing requests in flight at close (default 10 s). */
  shutdownGraceMs?: number;
}

export interface RunningService {
  name: string;
  url: string;
  app: FastifyInstance;
  store: Store;
  close(): Promise<void>;
}

const DEFAULT_BODY_LIMIT = 2 * 1024 * 1024;
/** The self-descriptions and health probes every part serves without a certificate. */
export const SELF_DESCRIPTION_PATHS = ['/metadata', '/health', '/health/live', '/health/ready', '/openapi.json'];
const HEALTH_PATHS = SELF_DESCRIPTION_PATHS;
const OPERATION_DEFINITION_PREFIX = '/OperationDefinition/';
/** How long a closing service lets requests in flight finish before it cuts the connections. */
const DEFAULT_SHUTDOWN_GRACE_MS = 10_000;

function isPublic(url: string, publicPaths: readonly string[]): boolean {
  const path = url.split('?')[0];
  return HEALTH_PATHS.includes(path) || publicPaths.some((p) => path === p || (p.endsWith('/') ? path.startsWith(p) : path.startsWith(`${p}/`) || path === p));
}

/** The one place an error becomes a response: its status, its headers, its OperationOutcome (with its code). */
export function sendOutcome(reply: FastifyReply, err: LdnError): FastifyReply {
  for (const [k, v] of Object.entries(err.headers)) reply.header(k, v);
  return reply.code(err.status).type('application/fhir+json').send(err.outcome);
}

/**
 * Any error to the LdnError it is answered with: an LdnError (every part's coded errors, HttpError
 * included) as it is; framework and unexpected errors mapped here; never leaks internals.
 */
export function toHttpError(err: FastifyError | Error, log: Logger): LdnError {
  if (err instanceof LdnError) {
    // A coded 500 is still a failure of ours: the log says what it was.
    if (err.status === 500) log.error({ err, code: err.code }, 'request failed');
    return err;
  }
  const fe = err as FastifyError;
  switch (fe.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new KitError('ERR_KIT_BODY_MALFORMED', `malformed JSON body: ${fe.message}`);
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new KitError('ERR_KIT_BODY_TOO_LARGE', 'request body exceeds the size limit');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new KitError('ERR_KIT_MEDIA_TYPE', 'unsupported content type; send application/fhir+json or application/json');
    case 'FST_ERR_VALIDATION':
      return new HttpError(400, 'invalid', fe.message);
    case 'FST_ERR_BAD_URL':
      return new HttpError(400, 'invalid', `the URL is not validly percent-encoded: ${fe.message}`);
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new HttpError(414, 'too-long', 'a path segment is longer than 100 characters');
  }
  if (fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 500) return new HttpError(fe.statusCode, 'invalid', fe.message);
  if (databaseUnavailable(err)) {
    log.warn({ err }, 'database unavailable');
    return new KitError('ERR_KIT_DATABASE_UNAVAILABLE', 'the service cannot reach its database; try again shortly', { headers: { 'retry-after': '5' } });
  }
  log.error({ err }, 'unhandled error');
  return new KitError('ERR_KIT_INTERNAL', 'internal error; see the service log');
}

/**
 * The one error handler: whatever a route, hook or the framework throws is answered by its
 * LdnError (toHttpError). Every part's service has it; a plugin served on a Fastify of its own
 * (the EHR simulator) installs it the same way. Without `log`, the request's logger is used.
 */
export function answerErrorsAsOutcomes(app: FastifyInstance, log?: Logger): void {
  app.setErrorHandler((err: FastifyError, request, reply) => sendOutcome(reply, toHttpError(err, log ?? (request.log as unknown as Logger))));
}

// PostgreSQL could not be reached or dropped the connection: SQLSTATE class 08 (connection
// exception), 57P01-57P03 (shut down, cannot connect now), 53300 (too many connections), or the
// driver's own socket errors. The request did not fail for its content: 503, not 500.
const DB_DOWN_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', '57P01', '57P02', '57P03', '53300']);
function databaseUnavailable(err: Error): boolean {
  const code = String((err as { code?: unknown }).code ?? '');
  if (DB_DOWN_CODES.has(code) || code.startsWith('08')) return true;
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/i.test(err.message);
}

/**
 * What the refused connection's certificate says about it, when it presented one that did not
 * verify: its thumbprint, and the URA it claims (unverified, so named as a claim).
 */
function presentedCertificate(socket: TLSSocket): { thumbprint?: string; claimedUra?: string } {
  const raw = socket.getPeerCertificate?.(false)?.raw;
  if (!raw) return {};
  const claimed = peerFromDer(raw)?.ura;
  return { thumbprint: thumbprintOf(raw), ...(claimed ? { claimedUra: claimed } : {}) };
}

export async function createService(part: PartDefinition, options: ServiceOptions): Promise<RunningService> {
  // Every line names the part and the instance (several instances of a part run behind one address).
  const given = options.log ?? createLogger(part.name);
  const bound = given.bindings();
  const log = given.child({ ...(bound.part ? {} : { part: part.name }), ...(bound.instance ? {} : { instance: instanceName() }) });
  const host = options.host ?? '127.0.0.1';
  const ownStore = !options.store;
  const settings = settingsView(options.settings ?? {});
  const kek = kekFromSettings(settings); // before the store opens: a malformed KEK is a configuration error
  const store =
    options.store ??
    (await openStore({ schema: part.schema, databaseUrl: options.databaseUrl, dataDir: options.dataDir }, part.migrations));
  const guard = options.peerGuard;
  const peerStatus = guard
    ? (peer: Peer) => peerRefusal(guard, peer, (err) => log.warn({ err }, 'peer status unavailable; denying'))
    : undefined;
  // The OperationDefinitions a part serves are public like its CapabilityStatement (only a part that has some).
  const publicPaths = [...(part.publicPaths ?? []), ...(operationDefinitions(part.capability).size > 0 ? [OPERATION_DEFINITION_PREFIX] : [])];

  const https = Fastify({
    loggerInstance: log,
    logController: new LogController({ disableRequestLogging: !(options.logRequests ?? process.env.LDN_LOG_REQUESTS === '1') }),
    bodyLimit: options.bodyLimit ?? DEFAULT_BODY_LIMIT,
    https: {
      key: options.tls.key,
      cert: options.tls.cert,
      ca: options.tls.ca,
      requestCert: true,
      rejectUnauthorized: false,
      maxHeaderSize: SERVER_LIMITS.maxHeaderSize,
    },
    ...fastifyLimitOptions(),
    // Graceful: at close, idle keep-alive connections go at once, requests in flight finish
    // (bounded by shutdownGraceMs), and new requests on open connections get 503.
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    // A URL the router cannot decode (400) or a path segment over the length limit (414) is
    // answered before any route or hook runs; it still gets an OperationOutcome.
    frameworkErrors: (err, _request, reply) => sendOutcome(reply, toHttpError(err, log)),
  });
  // Parts see a plain FastifyInstance; the HTTPS server type adds nothing they use.
  const app = https as unknown as FastifyInstance;

  // Bodies are JSON only: a text/plain body is refused with 415 instead of reaching handlers.
  app.removeContentTypeParser(['text/plain']);
  // FHIR JSON is JSON: parse it with the same strict parser.
  app.addContentTypeParser(['application/fhir+json', 'application/json+fhir'], { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, body === '' ? undefined : JSON.parse(body as string));
    } catch (err) {
      const e = err as FastifyError;
      e.code = 'FST_ERR_CTP_INVALID_JSON_BODY';
      e.statusCode = 400;
      done(e, undefined);
    }
  });

  const methods = new MethodTable();
  app.addHook('onRoute', (route) => methods.add(route.method, route.url));

  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    // The trace rides on the request (explicit, and ~20% cheaper than AsyncLocalStorage here);
    // handlers pass `request.trace` to the client for outbound calls.
    const trace = continueTrace(request.headers.traceparent as string | undefined);
    request.trace = trace;
    reply.header('traceresponse', formatTraceparent(trace));
    // Refused before anything reads it, public paths included (kit/http/edge.ts says why).
    checkUrl(request.url);
    const peer = peerOf(request.raw.socket as TLSSocket);
    if (peer) request.peer = peer;
    if (isPublic(request.url, publicPaths)) return;
    // Every refusal leaves one line: who knocked (as far as the certificate tells) and why.
    // The path is scrubbed: a URL may carry a BSN.
    const refused = (status: 401 | 403, reason: string, who: Record<string, string | undefined>) =>
      log.warn(
        { event: 'peer.refused', status, reason, method: request.method, path: scrubDigits(request.url.split('?')[0]), traceId: trace.traceId, ...who },
        'peer refused',
      );
    if (!peer) {
      const socket = request.raw.socket as TLSSocket;
      const presented = presentedCertificate(socket);
      // Node reports an authorization error even when no certificate came at all; say which it was.
      const why = !presented.thumbprint
        ? 'no client certificate presented'
        : socket.authorizationError
          ? String(socket.authorizationError)
          : 'the certificate carries no network identity';
      refused(401, why, presented);
      throw new KitError('ERR_KIT_CERTIFICATE_REQUIRED', `a network client certificate is required (${why})`);
    }
    if (peerStatus) {
      const reason = await peerStatus(peer);
      if (reason) {
        refused(403, reason, { ura: peer.ura || undefined, kvk: peer.kvk, thumbprint: peer.thumbprint });
        throw new KitError('ERR_KIT_PARTICIPANT_REFUSED', `participant refused: ${reason}`);
      }
    }
  });

  // Bodies are checked once parsed, before validation and handlers.
  app.addHook('preValidation', async (request: FastifyRequest) => checkBody(request));
  // After the certificate check: what the caller may not see is refused before formats matter.
  app.addHook('onRequest', async (request: FastifyRequest) => {
    refuseUnservableFormat(request.query as Record<string, unknown>, request.headers.accept);
  });

  answerErrorsAsOutcomes(app, log);
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0];
    const allowed = methods.allowed(path);
    if (allowed.length > 0 && !allowed.includes(request.method)) {
      return sendOutcome(
        reply,
        new KitError('ERR_KIT_METHOD_NOT_ALLOWED', `${request.method} is not supported on ${path}; allowed: ${allowed.join(', ')}`, {
          headers: { allow: allowed.join(', ') },
        }),
      );
    }
    return sendOutcome(reply, new KitError('ERR_KIT_NO_SUCH_ENDPOINT', `no such endpoint: ${request.method} ${path}`));
  });

  let baseUrl = options.publicUrl ?? '';
  let metadata: string | null = null; // serialised once: it only changes with the code
  // A part that runs its own authorisation server names its own token endpoint; the others the trust part's.
  const tokenEndpoint = () =>
    part.publicPaths?.includes('/oauth/token') || !options.network.has('trust') ? `${baseUrl}/oauth/token` : `${options.network.url('trust')}/oauth/token`;
  app.get('/metadata', async (_req, reply) => {
    metadata ??= JSON.stringify(capabilityStatement(part.name, baseUrl, part.capability, tokenEndpoint()));
    return reply.type('application/fhir+json').send(metadata);
  });
  const definitions = operationDefinitions(part.capability);
  if (definitions.size > 0) {
    app.get<{ Params: { id: string } }>(`${OPERATION_DEFINITION_PREFIX}:id`, async (request, reply) => {
      const definition = definitions.get(request.params.id);
      if (!definition) throw new HttpError(404, 'not-found', `no OperationDefinition ${request.params.id} here`);
      return reply.type('application/fhir+json').send(definition);
    });
  }
  if (part.openApi) {
    const openApi = part.openApi;
    app.get('/openapi.json', async (_req, reply) => reply.type('application/json').send(await openApi(baseUrl, tokenEndpoint())));
  }
  let closingNow = false;
  const readiness: ReadinessCheck[] = [storeCheck(store)];
  installHealth(app, part.name, () => readiness, () => closingNow);
  const metrics = installMetrics(app, { part: part.name, instance: instanceName() }, store);

  // A store that lives only in memory takes its keys with it: a random KEK is enough there.
  const memoryOnly = !options.databaseUrl && !options.dataDir;
  const ctx: PartContext = {
    name: part.name,
    get baseUrl() {
      return baseUrl;
    },
    store,
    log,
    tls: options.tls,
    network: options.network,
    settings,
    dataDir: options.filesDir,
    peerStatus,
    metrics: metrics.registry,
    requireForReadiness: (check) => void readiness.push(check),
    keys: partKeys(store, { kek: kek.current ?? options.keyEncryptionKey ?? (memoryOnly ? ephemeralKek() : undefined), previousKek: kek.previous, log }),
  };
  const scale = readSettings(part.name, [RATE_LIMIT_SCALE_SETTING], ctx.settings).integer(RATE_LIMIT_SCALE_SETTING.name);
  await registerRateLimits(app, part.rateLimits ?? [], scale);
  await part.register(app, ctx);
  serveMetrics(app, metrics.registry);
  await app.listen({ host, port: options.port ?? 0 });
  applyServerLimits(app.server);
  const port = (app.server.address() as AddressInfo).port;
  if (!baseUrl) baseUrl = `https://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}`;

  let closing: Promise<void> | null = null;
  return {
    name: part.name,
    url: baseUrl,
    app,
    store,
    close() {
      closing ??= (async () => {
        closingNow = true;
        const grace = options.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS;
        const cut = setTimeout(() => {
          log.warn({ event: 'service.shutdown-cut', graceMs: grace }, 'requests still in flight after the grace period; closing their connections');
          app.server.closeAllConnections();
        }, grace);
        cut.unref();
        await app.close(); // stops accepting; waits for requests in flight
        clearTimeout(cut);
        await part.stop?.().catch((err) => log.warn({ err }, 'part stop failed'));
        if (ownStore) await store.close();
        log.info({ event: 'service.stopped' }, `${part.name} stopped`);
      })();
      return closing;
    },
  };
}

export { operationOutcome };
