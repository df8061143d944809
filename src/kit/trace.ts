import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';

// W3C trace context. Every request carries a trace (request.trace); outbound calls carry
// `traceparent` with the same trace id and a new span id, so a requester's audit event and
// the holder's share one trace id. Background work can use runInTrace for an ambient trace.

export interface TraceContext {
  traceId: string;
  spanId: string;
  flags: string;
}

const storage = new AsyncLocalStorage<TraceContext>();
const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

export function parseTraceparent(header: string | undefined): TraceContext | null {
  if (!header) return null;
  const m = TRACEPARENT.exec(header.trim().toLowerCase());
  if (!m || /^0+$/.test(m[1]) || /^0+$/.test(m[2])) return null;
  return { traceId: m[1], spanId: m[2], flags: m[3] };
}

// randomUUID draws from a cached entropy pool: much cheaper per request than randomBytes.
function hex32(): string {
  return randomUUID().replace(/-/g, '');
}

function spanId(): string {
  return hex32().slice(0, 16);
}

export function newTrace(): TraceContext {
  return { traceId: hex32(), spanId: spanId(), flags: '01' };
}

/** Continues an incoming trace (new span id) or starts one. */
export function continueTrace(header: string | undefined): TraceContext {
  const parent = parseTraceparent(header);
  return parent ? { ...parent, spanId: spanId() } : newTrace();
}

export function formatTraceparent(ctx: TraceContext): string {
  return `00-${ctx.traceId}-${ctx.spanId}-${ctx.flags}`;
}

export function currentTrace(): TraceContext | undefined {
  return storage.getStore();
}

export function runInTrace<T>(ctx: TraceContext, fn: () => T): T {
  return storage.run(ctx, fn);
}

/** Header value for an outbound call: the given (or ambient) trace with a fresh span. */
export function childTraceparent(parent?: TraceContext): string {
  const ctx = parent ?? currentTrace() ?? newTrace();
  return formatTraceparent({ ...ctx, spanId: spanId() });
}
