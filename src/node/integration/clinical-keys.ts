import { isPatientReported } from '../../kit/fhir/patient-reported.ts';
import type { CodeableConcept, Coding, Medication, Resource } from '@medplum/fhirtypes';

// What makes two resources from different holders "the same fact": the same coded concept of
// the same kind (a drug by its ATC code, an allergy or problem by its SNOMED code, a result by
// its LOINC code and moment). Resources without a usable code are never merged.

const PREFERRED_SYSTEMS = [
  'http://www.whocc.no/atc',
  'http://snomed.info/sct',
  'http://loinc.org',
  'urn:oid:2.16.840.1.113883.2.4.4.10', // G-Standaard HPK
  'urn:oid:2.16.840.1.113883.2.4.4.7', // G-Standaard PRK
];

function bestCoding(cc: CodeableConcept | undefined): Coding | undefined {
  const codings = cc?.coding ?? [];
  for (const system of PREFERRED_SYSTEMS) {
    const hit = codings.find((c) => c.system === system && c.code);
    if (hit) return hit;
  }
  return codings.find((c) => c.system && c.code);
}

function codeKey(cc: CodeableConcept | undefined): string | undefined {
  const c = bestCoding(cc);
  return c ? `${c.system}|${c.code}` : undefined;
}

type WithMedication = Resource & {
  medicationCodeableConcept?: CodeableConcept;
  medicationReference?: { reference?: string };
  contained?: Resource[];
};

/** Finds a Medication the same holder returned alongside (e.g. by _include), by reference. */
export type MedicationLookup = (reference: string) => Medication | undefined;

/**
 * The drug of a medication resource: its own CodeableConcept, the contained Medication's code,
 * or the code of a referenced Medication that `lookup` finds among what the holder returned.
 */
export function medicationCode(r: WithMedication, lookup?: MedicationLookup): CodeableConcept | undefined {
  if (r.medicationCodeableConcept) return r.medicationCodeableConcept;
  const ref = r.medicationReference?.reference;
  if (!ref) return undefined;
  if (ref.startsWith('#')) {
    const med = r.contained?.find((c) => c.resourceType === 'Medication' && c.id === ref.slice(1)) as
      | { code?: CodeableConcept }
      | undefined;
    return med?.code;
  }
  return lookup?.(ref)?.code;
}

export type ClinicalGroup = 'allergies' | 'alerts' | 'medication' | 'problems' | 'results' | 'other';

const MEDICATION_TYPES = new Set(['MedicationStatement', 'MedicationRequest', 'MedicationDispense', 'MedicationAdministration']);

export function groupOf(r: Resource): ClinicalGroup {
  if (r.resourceType === 'AllergyIntolerance') return 'allergies';
  if (r.resourceType === 'Flag') return 'alerts';
  if (MEDICATION_TYPES.has(r.resourceType)) return 'medication';
  if (r.resourceType === 'Condition') return 'problems';
  if (r.resourceType === 'Observation' || r.resourceType === 'DiagnosticReport') return 'results';
  return 'other';
}

/** Merge key, or undefined when the resource must stand alone. */
export function mergeKey(r: Resource, lookup?: MedicationLookup): string | undefined {
  // What a citizen reported herself is never merged with what was measured in care.
  const key = careMergeKey(r, lookup);
  return key && isPatientReported(r) ? `patient-reported:${key}` : key;
}

function careMergeKey(r: Resource, lookup?: MedicationLookup): string | undefined {
  const any = r as Resource & { code?: CodeableConcept; effectiveDateTime?: string; issued?: string; clinicalStatus?: CodeableConcept };
  switch (groupOf(r)) {
    case 'medication': {
      const k = codeKey(medicationCode(r as WithMedication, lookup));
      return k && `medication:${k}`;
    }
    case 'allergies': {
      const k = codeKey(any.code);
      return k && `allergy:${k}`;
    }
    case 'problems': {
      const k = codeKey(any.code);
      const status = any.clinicalStatus?.coding?.[0]?.code ?? 'unknown';
      return k && `problem:${k}:${status}`;
    }
    case 'results': {
      const k = codeKey(any.code);
      const when = any.effectiveDateTime ?? any.issued;
      return k && when && `result:${k}:${when.slice(0, 16)}`;
    }
    default:
      return undefined;
  }
}

/** The clinically relevant date of a resource, for ordering (newest first). */
export function clinicalDate(r: Resource): string {
  const a = r as unknown as Record<string, unknown>;
  const period = (p: unknown) => (p as { start?: string } | undefined)?.start;
  const candidates = [
    a.whenHandedOver,
    a.authoredOn,
    a.effectiveDateTime,
    period(a.effectivePeriod),
    a.dateAsserted,
    a.recordedDate,
    a.onsetDateTime,
    a.occurrenceDateTime,
    a.performedDateTime,
    period(a.period),
    a.issued,
    r.meta?.lastUpdated,
  ];
  return (candidates.find((c) => typeof c === 'string') as string | undefined) ?? '';
}

const ACTIVE_FIRST: Record<string, number> = { active: 0, completed: 1, resolved: 2, inactive: 2, stopped: 3 };

/** Within a group: active before inactive, high criticality first, then newest first. */
export function relevanceRank(r: Resource): number {
  const a = r as { criticality?: string; clinicalStatus?: CodeableConcept; status?: string };
  const status = a.clinicalStatus?.coding?.[0]?.code ?? a.status ?? 'active';
  const crit = a.criticality === 'high' ? 0 : 1;
  return (ACTIVE_FIRST[status] ?? 1) * 2 + crit;
}
