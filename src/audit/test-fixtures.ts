import { encodePseudonymToken } from '../pseudonyms/nvi-identifier.ts';
import type { AuditEventInput } from './event.ts';

// Shared inputs for the audit tests.

export const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

/** A well-formed but meaningless PRS token (shape only: no transparency part can open it). */
export const SAMPLE_PSEUDONYM_TOKEN = encodePseudonymToken({ evaluatedOutput: 'eyJhbGciOiJSU0EifQ.a2V5.aXY.Y2lwaGVy.dGFn', blindFactor: new Uint8Array(32).fill(7) });

export function sampleInput(over: Partial<AuditEventInput> = {}): AuditEventInput {
  return {
    who: { professionalNumber: '900001011', professionalName: 'A. Bakker', roleCode: '01.045', organizationUra: '90000101', clientId: 'veluwe', otherPartyUra: '90000102' },
    what: { exchange: 'acute-zorg', dataCategories: ['MedicationRequest', 'AllergyIntolerance'], interaction: 'search-type', query: 'AllergyIntolerance?patient=Patient/p1', side: 'requester' },
    patient: { localReference: 'Patient/p1', transparencyPseudonymToken: SAMPLE_PSEUDONYM_TOKEN },
    why: { purposeOfUse: 'TREAT' },
    outcome: 'success',
    traceparent: TRACEPARENT,
    ...over,
  };
}
