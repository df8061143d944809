import type { FastifyInstance } from 'fastify';
import { clinicianRequest } from './clinician-request.ts';
import type { OverviewService } from './overview.ts';
import type { SummaryOperationOptions } from './summary/operation.ts';

// `GET /org/<URA>/fhir/Patient/$overview?identifier=<bsn-system>|<BSN>&exchange=<code>`: the
// data-integration function as a FHIR operation, for the organisation's own systems and a
// logged-in clinician (request checks in clinician-request.ts, the work in overview.ts). The
// OperationDefinition is overview-operation.ts; $summary (summary/operation.ts) is its sibling.

export const DEFAULT_OVERVIEW_EXCHANGE = 'acute-zorg';

export async function registerOverviewOperation(app: FastifyInstance, o: SummaryOperationOptions & { overview: OverviewService }): Promise<void> {
  app.get<{ Params: { ura: string }; Querystring: { identifier?: string; exchange?: string } }>('/org/:ura/fhir/Patient/$overview', async (request, reply) => {
    const exchange = request.query.exchange ?? DEFAULT_OVERVIEW_EXCHANGE;
    const { tenant, user, verklaring, bsn, emergencyReason } = await clinicianRequest(request, o, exchange);
    const result = await o.overview.overview({ tenant, bsn, exchange, user, verklaring, emergencyReason, trace: request.trace });
    return reply.type('application/fhir+json').send(result.bundle);
  });
}
