import type { FastifyRequest } from 'fastify';
import { LdnError } from '../../kit/errors.ts';
import { badRequest, forbidden, HttpError, notFound } from '../../kit/fhir/outcome.ts';
import { SYSTEM } from '../../kit/identifiers/systems.ts';
import { type AccessTokenClaims, exchangeByCode, userOf } from '../../trust/contract.ts';
import type { NodeEnvironment, NodeTenant } from '../environment.ts';
import { decodeReason, EMERGENCY_HEADER } from '../source/holder-api.ts';
import type { OverviewCaller } from './overview-operation.ts';

// Who asks, for every operation an organisation's own systems ask of its node for a logged-in
// clinician ($overview, $summary): its own certificate, her access token from this node's AS with
// the exchange's scope, her verklaring (travelling along so each holder's AS can verify her). What
// she asks (the BSN, a break-the-glass reason) is read here as sent; the overview operation
// (overview-operation.ts) parses and authorises it, as it does for the node's viewer.

export interface ClinicianRequest {
  caller: OverviewCaller;
  /** The BSN as sent (the identifier's value); parsed by the operation. */
  bsn: string;
  /** The decoded break-the-glass header, when sent; judged by the operation. */
  emergencyReason?: string;
}

export async function clinicianRequest(
  request: FastifyRequest<{ Params: { ura: string }; Querystring: { identifier?: string } }>,
  o: { tenants: Map<string, NodeTenant>; env: NodeEnvironment; verifyToken(request: FastifyRequest, tenant: NodeTenant): Promise<AccessTokenClaims> },
  exchange: string,
): Promise<ClinicianRequest> {
  const tenant = o.tenants.get(request.params.ura);
  if (!tenant) throw notFound(`this node serves no organisation with URA ${request.params.ura}`);
  if (request.peer?.ura !== tenant.ura) throw forbidden('only the organisation itself may ask its node for this');
  const claims = await o.verifyToken(request, tenant);
  const user = userOf(claims);
  if (!user) throw forbidden('the access token names no professional');
  const verklaring = request.headers['dezi-verklaring'];
  if (typeof verklaring !== 'string') throw badRequest('the Dezi-Verklaring header (the clinician\'s verklaring) is required');
  const checked = await o.env.verifyVerklaring(verklaring, tenant.ura).catch((e: Error) => {
    // Refused as 403 here whatever the reason; the identity part's code (why) travels along.
    throw new HttpError(403, 'forbidden', `verklaring refused: ${e.message}`, { code: e instanceof LdnError ? e.code : undefined });
  });
  if (checked.deziNumber !== user.deziNumber) throw forbidden('the verklaring names another professional than the token');
  const [system, bsn] = (request.query.identifier ?? '').split('|');
  if (!bsn || system !== SYSTEM.bsn) throw badRequest(`identifier must be ${SYSTEM.bsn}|<BSN>`);
  if (!claims.scope.split(' ').some((s) => exchangeByCode(o.env.agreements(), exchange)?.scopes.includes(s))) {
    throw forbidden(`the access token does not carry the ${exchange} scope`);
  }
  return { caller: { tenant, user, verklaring }, bsn, emergencyReason: decodeReason(request.headers[EMERGENCY_HEADER]) };
}
