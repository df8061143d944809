import type { Coding, Identifier, MedicationDispense, MedicationRequest, Resource } from '@medplum/fhirtypes';

// The Dutch medication-process (MP9 3.0) building blocks the sandbox uses, in one place: a
// medication agreement (medicatieafspraak) and a dispense request (verstrekkingsverzoek) are
// MedicationRequests told apart by category; a dispense (verstrekking) is a MedicationDispense;
// all of one treatment carry the same pharmaceutical-treatment identifier.

export const SNOMED = 'http://snomed.info/sct';
export const MP9 = {
  treatmentExtension: 'http://nictiz.nl/fhir/StructureDefinition/ext-PharmaceuticalTreatment.Identifier',
  /** The sandbox EHRs' own system for treatment identifiers (an OID in a real MP9 system). */
  treatmentSystem: 'https://ldn.example.nl/fhir/NamingSystem/pharmaceutical-treatment',
  stopTypeExtension: 'http://nictiz.nl/fhir/StructureDefinition/ext-StopType',
  stopTypeSystem: 'http://snomed.info/sct',
} as const;

export const MP9_CATEGORY = {
  medicationAgreement: { system: SNOMED, code: '16076005', display: 'Medicatieafspraak' },
  dispenseRequest: { system: SNOMED, code: '52711000146108', display: 'Verstrekkingsverzoek' },
  dispense: { system: SNOMED, code: '373784005', display: 'Verstrekking' },
} as const satisfies Record<string, Coding>;

/** Stop types: a definitive stop (410546004 "stopped") and a temporary one (385655000 "suspended"). */
export const STOP_TYPE = {
  stopped: { system: SNOMED, code: '410546004', display: 'Definitief gestopt' },
  suspended: { system: SNOMED, code: '385655000', display: 'Onderbroken' },
} as const;

type WithExtensions = Resource & { extension?: Array<{ url?: string; valueIdentifier?: Identifier }>; category?: unknown };

export function treatmentIdentifier(identifier: Identifier) {
  return { url: MP9.treatmentExtension, valueIdentifier: identifier };
}

/** The treatment a medication resource belongs to (system|value), if it names one. */
export function treatmentOf(r: Resource): string | undefined {
  const id = (r as WithExtensions).extension?.find((e) => e.url === MP9.treatmentExtension)?.valueIdentifier;
  return id?.system && id.value ? `${id.system}|${id.value}` : undefined;
}

function categories(r: Resource): Coding[] {
  const c = (r as WithExtensions).category;
  const list = Array.isArray(c) ? c : c ? [c] : [];
  return list.flatMap((x: { coding?: Coding[] }) => x?.coding ?? []);
}

export function isBuildingBlock(r: Resource, kind: keyof typeof MP9_CATEGORY): boolean {
  const want = MP9_CATEGORY[kind];
  return categories(r).some((c) => c.system === want.system && c.code === want.code);
}

export type AgreementOrRequest = MedicationRequest;
export type Dispense = MedicationDispense;
