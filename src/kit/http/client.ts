import { Agent, request as undiciRequest } from 'undici';
import type { OperationOutcome } from '@medplum/fhirtypes';
import { errorCodeOf } from '../errors.ts';
import type { TlsIdentity } from '../part.ts';
import { childTraceparent, type TraceContext } from '../trace.ts';
import { readBounded } from './bounded-body.ts';

// The one client every part uses to call another: mutual TLS with the caller's network
// certificate, an access token per (target, scope) from a TokenProvider, a deadline per call,
// bounded retries with backoff on 429/503 honouring Retry-After, bounded response size, and
// W3C traceparent on every call.

/** An RFC 9396 authorization_details entry to ask for (the trust kit defines the types). */
export interface RequestedAuthorizationDetail {
  type: string;
  identifier?: string;
  locations?: string[];
  actions?: string[];
}

export interface TokenProvider {
  /** An access token for `scope` at the part or node whose base URL is `resource` (RFC 8707). */
  token(resource: string, scope: string, options?: { userAssertion?: string; authorizationDetails?: RequestedAuthorizationDetail[] }): Promise<string>;
  /** Drops a cached token (after a 401). */
  invalidate?(resource: string, scope: string): void;
}

export interface CallOptions {
  method?: string;
  body?: unknown;
  /** Raw body with explicit content type (forms). */
  form?: Record<string, string>;
  headers?: Record<string, string>;
  /** Request a token with this scope from the TokenProvider and send it as Bearer. */
  scope?: string;
  /** Base URL of the token's audience; defaults to the origin of the URL. */
  resource?: string;
  /** Dezi verklaring to carry (jwt-bearer grant) when a professional is behind the call. */
  userAssertion?: string;
  /** RFC 9396 authorization_details for the token (e.g. the workflow Task a pull is based on). */
  authorizationDetails?: RequestedAuthorizationDetail[];
  deadlineMs?: number;
  retries?: number;
  /** Trace of the request being served (request.trace); a new trace when omitted. */
  trace?: TraceContext;
  maxResponseBytes?: number;
  /**
   * A POST that is safe to repeat (idempotent by design, e.g. a lookup or an event with its own id).
   * GET, HEAD, PUT and DELETE are retried once on a dropped connection anyway; other POSTs never.
   */
  idempotent?: boolean;
}

export interface CallResult<T = unknown> {
  status: number;
  headers: Record<string, string>;
  body: T;
  text: string;
}

// Not an LdnError: its status is the other service's answer, not ours; what it means for our own
// answer is the caller's to say (a 502, a withheld category, a retry).
export class UpstreamError extends Error {
  constructor(
    readonly url: string,
    readonly status: number,
    readonly outcome: OperationOutcome | undefined,
    message: string,
  ) {
    super(message);
  }

  /** The LDN error code the other service answered with (kit/errors.ts), to branch on instead of its English. */
  get errorCode(): string | undefined {
    return errorCodeOf(this.outcome);
  }
}

/** The connection failed or dropped before an answer (not a deadline): another instance may answer. */
export class ConnectionFailed extends UpstreamError {}

export interface ClientOptions {
  tls: TlsIdentity;
  tokens?: TokenProvider;
  defaultDeadlineMs?: number;
  maxRetries?: number;
  connections?: number;
}

const RETRYABLE = new Set([429, 503]);
const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']);


export class PartClient {
  readonly agent: Agent;
  private readonly deadline: number;
  private readonly maxRetries: number;

  constructor(private readonly options: ClientOptions) {
    this.agent = new Agent({
      connect: { cert: options.tls.cert, key: options.tls.key, ca: options.tls.ca },
      connections: options.connections ?? 64,
      keepAliveTimeout: 30_000,
    });
    this.deadline = options.defaultDeadlineMs ?? 10_000;
    this.maxRetries = options.maxRetries ?? 2;
  }

  get tokens(): TokenProvider | undefined {
    return this.options.tokens;
  }

  async call<T = unknown>(url: string, opts: CallOptions = {}): Promise<CallResult<T>> {
    const deadline = Date.now() + (opts.deadlineMs ?? this.deadline);
    const retries = opts.retries ?? this.maxRetries;
    for (let attempt = 0; ; attempt++) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new UpstreamError(url, 504, undefined, `deadline exceeded calling ${url}`);
      let result: CallResult<T>;
      try {
        result = await this.once<T>(url, opts, remaining);
      } catch (err) {
        // One retry on a dropped connection, only where repeating cannot do harm: a load balancer
        // sends it to another instance, or the keep-alive connection was closed under us.
        const method = (opts.method ?? 'GET').toUpperCase();
        if (!(err instanceof ConnectionFailed) || attempt > 0 || !(IDEMPOTENT_METHODS.has(method) || opts.idempotent)) throw err;
        continue;
      }
      if (result.status === 401 && opts.scope && attempt === 0 && this.options.tokens?.invalidate) {
        this.options.tokens.invalidate(opts.resource ?? new URL(url).origin, opts.scope);
        continue;
      }
      if (!RETRYABLE.has(result.status) || attempt >= retries) return result;
      const retryAfter = Number(result.headers['retry-after']);
      const backoff = Number.isFinite(retryAfter) && retryAfter >= 0 ? retryAfter * 1000 : 100 * 2 ** attempt;
      const jitter = Math.random() * 50;
      if (Date.now() + backoff + jitter >= deadline) return result;
      await new Promise((r) => setTimeout(r, backoff + jitter));
    }
  }

  /** Like call, but 2xx only: anything else throws an UpstreamError carrying the OperationOutcome. */
  async json<T = unknown>(url: string, opts: CallOptions = {}): Promise<T> {
    const r = await this.call<T>(url, opts);
    if (r.status >= 200 && r.status < 300) return r.body;
    const outcome = (r.body as { resourceType?: string })?.resourceType === 'OperationOutcome' ? (r.body as unknown as OperationOutcome) : undefined;
    const why = outcome?.issue?.[0]?.diagnostics ?? r.text.slice(0, 200);
    throw new UpstreamError(url, r.status, outcome, `${opts.method ?? 'GET'} ${url} → ${r.status}: ${why}`);
  }

  private async once<T>(url: string, opts: CallOptions, remainingMs: number): Promise<CallResult<T>> {
    const headers: Record<string, string> = {
      accept: 'application/fhir+json, application/json',
      traceparent: childTraceparent(opts.trace),
      ...(opts.headers ?? {}),
    };
    let body: string | undefined;
    if (opts.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(opts.form).toString();
    } else if (opts.body !== undefined) {
      headers['content-type'] ??= 'application/fhir+json';
      body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
    }
    if (opts.scope && this.options.tokens) {
      const token = await this.options.tokens.token(opts.resource ?? new URL(url).origin, opts.scope, {
        userAssertion: opts.userAssertion,
        authorizationDetails: opts.authorizationDetails,
      });
      headers.authorization = `Bearer ${token}`;
    }
    const signal = AbortSignal.timeout(Math.max(1, remainingMs));
    let res: Awaited<ReturnType<typeof undiciRequest>>;
    try {
      res = await undiciRequest(url, { method: (opts.method ?? 'GET') as 'GET', headers, body, dispatcher: this.agent, signal });
    } catch (err) {
      const e = err as Error;
      const timeout = e.name === 'TimeoutError' || e.name === 'AbortError';
      if (timeout) throw new UpstreamError(url, 504, undefined, `deadline exceeded calling ${url}: ${e.message}`);
      throw new ConnectionFailed(url, 502, undefined, `connection failed calling ${url}: ${e.message}`);
    }
    const limit = opts.maxResponseBytes ?? 20 * 1024 * 1024;
    const bytes = await readBounded(res.body, limit).catch((err: Error) => {
      throw new UpstreamError(url, 504, undefined, `reading response from ${url} failed: ${err.message}`);
    });
    if (!bytes) throw new UpstreamError(url, 502, undefined, `response from ${url} exceeds ${limit} bytes`);
    const text = bytes.toString('utf8');
    const flat: Record<string, string> = {};
    for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) flat[k] = Array.isArray(v) ? v.join(', ') : String(v);
    let parsed: unknown = text;
    // NDJSON (Bulk Data files) is JSON per line, not one document: the caller gets the text.
    if (/json/.test(flat['content-type'] ?? '') && !/ndjson/.test(flat['content-type'] ?? '') && text) {
      try {
        parsed = JSON.parse(text);
      } catch {
        throw new UpstreamError(url, 502, undefined, `malformed JSON from ${url}`);
      }
    }
    return { status: res.statusCode, headers: flat, body: parsed as T, text };
  }

  async close(): Promise<void> {
    await this.agent.close();
  }
}
