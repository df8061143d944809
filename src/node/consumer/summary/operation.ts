import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AccessTokenClaims } from '../../../trust/contract.ts';
import type { NodeEnvironment, NodeTenant } from '../../environment.ts';
import { clinicianRequest } from '../clinician-request.ts';
import type { OverviewOperation } from '../overview-operation.ts';
import { ipsDocument } from './ips-document.ts';

// `GET /org/<URA>/fhir/Patient/$summary?identifier=<bsn-system>|<BSN>`: the IPS operation
// (http://hl7.org/fhir/uv/ips/OperationDefinition/summary) on the node, for the organisation's
// own systems and a logged-in clinician, like $overview. The data are gathered under the `ips`
// exchange (its agreements: who may ask, which holders, explicit consent) by the overview, and
// returned as an IPS document Bundle. Same request checks, audit and partial answers as $overview.

export const SUMMARY_EXCHANGE = 'ips';

export interface SummaryOperationOptions {
  tenants: Map<string, NodeTenant>;
  env: NodeEnvironment;
  verifyToken(request: FastifyRequest, tenant: NodeTenant): Promise<AccessTokenClaims>;
  operation: OverviewOperation;
}

export async function registerSummaryOperation(app: FastifyInstance, o: SummaryOperationOptions): Promise<void> {
  app.get<{ Params: { ura: string }; Querystring: { identifier?: string } }>('/org/:ura/fhir/Patient/$summary', async (request, reply) => {
    const { caller, bsn, emergencyReason } = await clinicianRequest(request, o, SUMMARY_EXCHANGE);
    const result = await o.operation.run(caller, { bsn, exchange: SUMMARY_EXCHANGE, emergencyReason, trace: request.trace });
    const document = ipsDocument({ overview: result.bundle, author: { ura: caller.tenant.ura, name: caller.tenant.name } });
    return reply.type('application/fhir+json').send(document);
  });
}
