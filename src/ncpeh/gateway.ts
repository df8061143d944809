import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import { forbidden, HttpError } from '../kit/fhir/outcome.ts';
import { applyServerLimits, fastifyLimitOptions } from '../kit/http/server-limits.ts';
import { thumbprintOf } from '../kit/http/peer.ts';
import { sendOutcome, toHttpError } from '../kit/http/service.ts';
import type { TrustListContent, TrustListEntry } from './trust-list.ts';

// The NCP-to-NCP door: its own HTTPS listener, apart from the national network's, that accepts
// only the gateways the verified trust list names: a client certificate chaining to a CA the list
// gives, and whose thumbprint is the one listed for that country. Errors are OperationOutcomes.

export interface GatewayOptions {
  cert: string;
  key: string;
  host: string;
  port: number;
  list: () => TrustListContent;
  ownCountry: string;
  log: Logger;
}

export interface RunningGateway {
  app: FastifyInstance;
  url: string;
  close(): Promise<void>;
}

/** The trust-list member that called (by its certificate), or a 403. */
export function callingMember(request: FastifyRequest, list: TrustListContent, ownCountry: string): TrustListEntry {
  const socket = request.raw.socket as TLSSocket;
  const raw = socket.authorized ? socket.getPeerCertificate(false)?.raw : undefined;
  if (!raw) throw forbidden('a gateway certificate from a contact point on the trust list is required');
  const thumbprint = thumbprintOf(raw);
  const member = list.entries.find((e) => e.gatewayThumbprint === thumbprint && e.country !== ownCountry);
  if (!member) throw forbidden('this certificate is not a contact point gateway on the trust list');
  return member;
}

export async function startGateway(o: GatewayOptions, routes: (app: FastifyInstance) => Promise<void> | void): Promise<RunningGateway> {
  const cas = o.list().entries.filter((e) => e.country !== o.ownCountry).map((e) => e.caCert);
  const app = Fastify({
    logger: false,
    forceCloseConnections: true,
    ...fastifyLimitOptions(),
    https: { cert: o.cert, key: o.key, ca: cas, requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2' },
  });
  app.setErrorHandler((err, _request, reply) => sendOutcome(reply, toHttpError(err as Error, o.log)));
  app.setNotFoundHandler((_request, reply) => sendOutcome(reply, new HttpError(404, 'not-found', 'no such cross-border service')));
  await routes(app);
  await app.listen({ host: o.host, port: o.port });
  applyServerLimits(app.server);
  const url = `https://${o.host}:${(app.server.address() as AddressInfo).port}`;
  return { app, url, close: () => app.close() };
}
