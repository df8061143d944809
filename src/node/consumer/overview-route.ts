import type { FastifyInstance } from 'fastify';
import { clinicianRequest } from './clinician-request.ts';
import type { SummaryOperationOptions } from './summary/operation.ts';

// `GET /org/<URA>/fhir/Patient/$overview?identifier=<bsn-system>|<BSN>&exchange=<code>`: the
// data-integration function as a FHIR operation, for the organisation's own systems and a
// logged-in clinician: who asks is established in clinician-request.ts, the ask is parsed,
// authorised and served by overview-operation.ts (as for the node's viewer). The
// OperationDefinition is overview-definition.ts; $summary (summary/operation.ts) is its sibling.

export const DEFAULT_OVERVIEW_EXCHANGE = 'acute-zorg';

export async function registerOverviewOperation(app: FastifyInstance, o: SummaryOperationOptions): Promise<void> {
  app.get<{ Params: { ura: string }; Querystring: { identifier?: string; exchange?: string } }>('/org/:ura/fhir/Patient/$overview', async (request, reply) => {
    const exchange = request.query.exchange ?? DEFAULT_OVERVIEW_EXCHANGE;
    const { caller, bsn, emergencyReason } = await clinicianRequest(request, o, exchange);
    const result = await o.operation.run(caller, { bsn, exchange, emergencyReason, trace: request.trace });
    return reply.type('application/fhir+json').send(result.bundle);
  });
}
