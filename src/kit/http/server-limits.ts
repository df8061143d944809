import http from 'node:http';
import type { Socket } from 'node:net';
import type { Server } from 'node:https';
import { KitError } from '../errors.ts';

// Timeouts and sizes every server of the network sets, so a slow client (slowloris: headers one
// byte at a time, a body that never ends) cannot hold sockets, and an outsized header is
// refused by the parser before anything reads it. Node's own defaults are looser (no header
// timeout below a minute, 16 kB headers, 5 minutes per request).

export const SERVER_LIMITS = {
  /** All request headers must arrive within this. */
  headersTimeoutMs: 10_000,
  /** The whole request (headers and body) must arrive within this. */
  requestTimeoutMs: 30_000,
  /** A socket idle this long is closed (also during a slow handler: the node's overview deadline is far below it). */
  connectionTimeoutMs: 60_000,
  keepAliveTimeoutMs: 5_000,
  /** Request line plus headers; a bearer token and a verklaring fit many times over. */
  maxHeaderSize: 16 * 1024,
} as const;

/** Fastify options that apply the limits (spread into the Fastify constructor options). */
export function fastifyLimitOptions() {
  return {
    connectionTimeout: SERVER_LIMITS.connectionTimeoutMs,
    keepAliveTimeout: SERVER_LIMITS.keepAliveTimeoutMs,
    requestTimeout: SERVER_LIMITS.requestTimeoutMs,
    clientErrorHandler: clientErrorAsOutcome,
  };
}

/** Sets what Fastify has no option for (the header timeout) on the listening server. */
export function applyServerLimits(server: http.Server | Server): void {
  server.headersTimeout = SERVER_LIMITS.headersTimeoutMs;
}

/** What the HTTP parser refuses (oversized headers, a timeout, garbage) as an OperationOutcome, not Fastify's JSON. */
export function clientErrorAsOutcome(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const refusal =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? new KitError('ERR_KIT_REQUEST_TIMEOUT', 'the request did not arrive in time')
      : err.code === 'HPE_HEADER_OVERFLOW'
        ? new KitError('ERR_KIT_HEADERS_TOO_LARGE', `the request headers exceed ${SERVER_LIMITS.maxHeaderSize} bytes`)
        : new KitError('ERR_KIT_NOT_HTTP', 'the request is not valid HTTP/1.1');
  const status = refusal.status;
  const body = JSON.stringify(refusal.outcome);
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Type: application/fhir+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(err);
}
