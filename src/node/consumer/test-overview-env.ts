import type { AuditEvent } from '@medplum/fhirtypes';
import { defaultAgreements } from '../../trust/agreements/default-agreements.ts';
import type { NodeEnvironment, NodeTenant } from '../environment.ts';

// The overview's tests replace the network by an environment whose parts answer, hang or fail on cue.

export const tenant: NodeTenant = {
  ura: '90000101',
  name: 'Ziekenhuis Veluwe',
  type: 'V4',
  identity: { cert: '', key: '', ca: '' },
  ehrBaseUrl: 'http://ehr.invalid/fhir',
};

/** An environment whose parts answer as told; what is audited is kept. */
export function environment(overrides: Partial<NodeEnvironment>): { env: NodeEnvironment; events: AuditEvent[]; patients: Array<{ bsn: string } | undefined> } {
  const events: AuditEvent[] = [];
  const patients: Array<{ bsn: string } | undefined> = [];
  const env: NodeEnvironment = {
    agreements: defaultAgreements,
    participant: async () => null,
    localise: async () => [],
    registerReferral: async () => {},
    withdrawReferral: async () => {},
    endpoint: async () => null,
    consent: { closedQuestion: async () => ({ decision: 'Permit' }) } as unknown as NodeEnvironment['consent'],
    verifyVerklaring: async () => {
      throw new Error('not used');
    },
    audit: async (event, patient) => {
      events.push(event);
      patients.push(patient);
    },
    ...overrides,
  };
  return { env, events, patients };
}
