import type { AuditEvent } from '@medplum/fhirtypes';
import { buildAuditEvent } from '../../audit/contract.ts';
import {
  PERMIT_DETAIL_RESEARCH_ORGANISATION,
  PERMIT_IDENTIFIER_SYSTEM,
  type PermitClaims,
  PURPOSE_RESEARCH,
  RESEARCH_USE_EXCHANGE,
} from '../../secondary-use/contract.ts';
import type { ExportJob } from './jobs.ts';

// What the citizen learns when a holder puts her data in a permit's extract: which permit, for
// which research organisation and purpose, which data categories, from which holder and when;
// never the research pseudonym or anything of the research result. The event is the holder's own
// (side holder, the HDAB as the other party) and goes to the transparency log the way care
// accesses do: the node's outbox names the patient there by a PRS token, so the log keys it by the
// citizen's transparency pseudonym and no BSN leaves the node's sealed outbox.

export function researchUseEvent(
  job: ExportJob,
  permit: PermitClaims,
  patient: { localReference: string; categories: string[] },
  clientId: string,
): AuditEvent {
  const event = buildAuditEvent({
    who: { organizationUra: job.tenantUra, clientId, otherPartyUra: job.requesterUra },
    what: { exchange: RESEARCH_USE_EXCHANGE, dataCategories: patient.categories, interaction: 'operation', side: 'holder' },
    patient: { localReference: patient.localReference },
    why: { purposeOfUse: PURPOSE_RESEARCH },
    outcome: 'success',
    outcomeDescription: `exported under data permit ${permit.jti}`,
  });
  event.entity?.push({
    type: { system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type', code: '2', display: 'System Object' },
    what: { identifier: { system: PERMIT_IDENTIFIER_SYSTEM, value: permit.jti } },
    description: permit.purpose.slice(0, 500),
    detail: [{ type: PERMIT_DETAIL_RESEARCH_ORGANISATION, valueString: permit.sub }],
  });
  return event;
}
