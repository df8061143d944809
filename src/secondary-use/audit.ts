import { randomUUID } from 'node:crypto';
import type { AuditEvent } from '@medplum/fhirtypes';
import { appendAuditEvent } from '../audit/contract.ts';
import { CODE_SYSTEM, SYSTEM } from '../kit/identifiers/systems.ts';
import type { Store } from '../kit/store/store.ts';

// The HDAB's accountability: every permit decision, extraction, query and released result is a
// FHIR AuditEvent in the part's own hash-chained log (src/audit/chain.ts, the same chain as
// the nodes' logs). Events name the permit and the organisations, never a patient.

export const HDAB_EVENT_SYSTEM = 'https://ldn.example.nl/fhir/CodeSystem/hdab-event';
export type HdabAction = 'permit.apply' | 'permit.grant' | 'permit.refuse' | 'permit.expire' | 'extraction' | 'query' | 'release' | 'workspace.destroy';

export interface HdabAuditInput {
  action: HdabAction;
  permitId: string;
  /** URA of whoever acted (research organisation, operator, holder, or the HDAB itself). */
  actorUra: string;
  outcome: 'success' | 'refused' | 'failed';
  /** What happened, in words (SQL text of a query, released cells, holder results); never a BSN. */
  detail?: Record<string, string>;
}

export async function auditHdab(store: Store, input: HdabAuditInput): Promise<void> {
  const event: AuditEvent = {
    resourceType: 'AuditEvent',
    id: randomUUID(),
    type: { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest', display: 'RESTful Operation' },
    subtype: [{ system: HDAB_EVENT_SYSTEM, code: input.action }],
    action: 'E',
    recorded: new Date().toISOString(),
    outcome: input.outcome === 'success' ? '0' : input.outcome === 'refused' ? '4' : '8',
    purposeOfEvent: [{ coding: [{ system: CODE_SYSTEM.purposeOfUse, code: 'HRESCH' }] }],
    agent: [{ who: { identifier: { system: SYSTEM.ura, value: input.actorUra } }, requestor: true }],
    source: { observer: { display: 'HDAB' } },
    entity: [
      {
        what: { reference: `Permit/${input.permitId}` },
        detail: Object.entries(input.detail ?? {}).map(([type, valueString]) => ({ type, valueString })),
      },
    ],
  };
  await appendAuditEvent(store, event);
}

/** The audit trail of one permit, oldest first. */
export async function permitTrail(store: Store, permitId: string): Promise<AuditEvent[]> {
  const rows = await store.query<{ entry: string }>('SELECT entry FROM audit_log ORDER BY seq');
  return rows
    .map((r) => (JSON.parse(r.entry) as { event: AuditEvent }).event)
    .filter((e) => e.entity?.some((x) => x.what?.reference === `Permit/${permitId}`));
}
