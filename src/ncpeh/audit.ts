import { createHmac, randomUUID } from 'node:crypto';
import type { AuditEvent } from '@medplum/fhirtypes';
import { AUDIT_CODE_SYSTEM, createAuditLogWriter } from '../audit/contract.ts';
import type { Queryable, Store } from '../kit/store/store.ts';

// Every cross-border request, answered or refused, as an AuditEvent in the contact point's own
// hash-chained log (the audit library every node uses). The patient is named by a keyed hash of
// the national identifier, never by the identifier itself; the professional, her organisation
// and country, the service, the outcome and the reason are kept.

export const CROSS_BORDER_SYSTEM = 'https://ldn.example.nl/fhir/NamingSystem/cross-border';

export interface CrossBorderAccess {
  service: 'patient-summary' | 'eprescription-list' | 'edispensation' | 'outgoing-patient-summary';
  /** The other country's code. */
  country: string;
  side: 'country-of-affiliation' | 'country-of-treatment';
  professional?: { id: string; name: string; role: string; organization: string };
  /** The patient's national identifier: only its keyed hash is written. */
  patientId?: string;
  outcome: 'answered' | 'refused' | 'failed';
  reason?: string;
  traceId?: string;
}

export function crossBorderAuditLog(store: Store, patientKey: string) {
  const writer = createAuditLogWriter(store);
  const ref = (id: string) => `patient-${createHmac('sha256', patientKey).update(id).digest('base64url').slice(0, 32)}`;
  return {
    patientReference: ref,
    async record(a: CrossBorderAccess): Promise<void> {
      const event: AuditEvent = {
        resourceType: 'AuditEvent',
        id: randomUUID(),
        type: { system: AUDIT_CODE_SYSTEM.eventType, code: 'rest' },
        subtype: [{ system: CROSS_BORDER_SYSTEM, code: a.service }],
        action: a.service === 'edispensation' ? 'C' : 'R',
        recorded: new Date().toISOString(),
        outcome: a.outcome === 'answered' ? '0' : a.outcome === 'refused' ? '4' : '8',
        ...(a.reason ? { outcomeDesc: a.reason } : {}),
        purposeOfEvent: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'TREAT' }] }],
        agent: [
          ...(a.professional
            ? [
                {
                  who: { identifier: { system: `${CROSS_BORDER_SYSTEM}/professional`, value: a.professional.id }, display: a.professional.name },
                  role: [{ coding: [{ system: 'http://ilo.org/isco-08', code: a.professional.role }] }],
                  requestor: true,
                },
              ]
            : []),
          {
            who: { display: a.professional?.organization ?? a.country },
            requestor: false,
            location: { display: a.country },
          },
        ],
        source: { observer: { display: `NCPeH (${a.side})` }, type: [{ system: CROSS_BORDER_SYSTEM, code: a.side }] },
        entity: [
          ...(a.patientId ? [{ what: { identifier: { system: `${CROSS_BORDER_SYSTEM}/patient`, value: ref(a.patientId) } } }] : []),
          ...(a.traceId ? [{ what: { identifier: { system: `${CROSS_BORDER_SYSTEM}/trace`, value: a.traceId } } }] : []),
        ],
      };
      await writer.append(event);
    },
  };
}

/** The contact point's audit events, oldest first (tests and the operator). */
export async function crossBorderEvents(q: Queryable): Promise<AuditEvent[]> {
  const rows = await q.query<{ entry: string }>('SELECT entry FROM audit_log ORDER BY seq');
  return rows.map((r) => (JSON.parse(r.entry) as { event: AuditEvent }).event);
}
