import type { Bundle, Patient, Resource } from '@medplum/fhirtypes';
import { SYSTEM } from '../../kit/identifiers/systems.ts';
import { ipsDocument } from '../../node/consumer/summary/ips-document.ts';
import { ehrDataFor } from '../../node/ehr-sim/cast-data.ts';
import { DE_GROOT_HOLDERS } from '../../node/ehr-sim/de-groot.ts';
import { type HolderResult, mergeOverview } from '../../node/integration/merge.ts';
import { DE_GROOT, organizationByUra } from '../../sandbox/cast.ts';

// Test data: the IPS document the node's Patient/$summary builds for Mr De Groot, made from the EHR
// simulator's seeded records of his three holders by the same merge and document builder, without
// the network. For the transcoding and IPS-validation tests (not used at run time).

function about(resources: Resource[], bsn: string): Resource[] {
  const patient = resources.find(
    (r) =>
      r.resourceType === 'Patient' &&
      (r as Patient).identifier?.some((i) => i.system === SYSTEM.bsn && i.value === bsn),
  );
  if (!patient) return [];
  const ref = `"Patient/${patient.id}"`;
  return resources.filter((r) => r === patient || JSON.stringify(r).includes(ref));
}

export function deGrootHolders(): HolderResult[] {
  return Object.values(DE_GROOT_HOLDERS).map((ura) => ({
    ura,
    name: organizationByUra(ura)?.name ?? ura,
    endpoint: `https://node.example/org/${ura}/fhir`,
    status: 'ok' as const,
    resources: about(ehrDataFor(ura), DE_GROOT.bsn),
    elapsedMs: 5,
  }));
}

export function deGrootIps(now = new Date('2025-06-01T09:00:00Z')): Bundle {
  const { bundle } = mergeOverview({ bsn: DE_GROOT.bsn, holders: deGrootHolders() });
  return ipsDocument({ overview: bundle, author: { ura: '90000101', name: 'Ziekenhuis Veluwe' }, now });
}
