import type { Resource } from '@medplum/fhirtypes';

// Small readers shared by the store, the server and the tests: which local Patient a
// resource is about, and the codes it can be searched by.

type Ref = { reference?: string };
type Coding = { system?: string; code?: string };
type CC = { coding?: Coding[] };

/** The local Patient id a resource is about (a Patient is about itself). */
export function patientIdOf(resource: Resource): string | undefined {
  if (resource.resourceType === 'Patient') return resource.id;
  const r = resource as { patient?: Ref; subject?: Ref };
  const ref = r.patient?.reference ?? r.subject?.reference;
  const m = ref ? /^(?:.*\/)?Patient\/([A-Za-z0-9\-.]{1,64})$/.exec(ref) : null;
  return m ? m[1] : undefined;
}

export interface Token {
  param: 'identifier' | 'code' | 'category';
  system: string;
  code: string;
}

function codings(cc: CC | CC[] | undefined): Coding[] {
  if (!cc) return [];
  return (Array.isArray(cc) ? cc : [cc]).flatMap((c) => c.coding ?? []);
}

const MEDICATION_TYPES = new Set(['MedicationRequest', 'MedicationStatement', 'MedicationDispense', 'MedicationAdministration']);

/** Token index entries for identifier, code and category searches. */
export function tokensOf(resource: Resource, allergyCategorySystem: string): Token[] {
  const r = resource as unknown as Record<string, unknown>;
  const out: Token[] = [];
  for (const id of (r.identifier as Array<{ system?: string; value?: string }> | undefined) ?? []) {
    if (id.value) out.push({ param: 'identifier', system: id.system ?? '', code: id.value });
  }
  const codeSources: CC[] = [];
  if (resource.resourceType === 'Immunization') codeSources.push(r.vaccineCode as CC);
  else if (MEDICATION_TYPES.has(resource.resourceType)) {
    codeSources.push(r.medicationCodeableConcept as CC);
    const ref = (r.medicationReference as Ref | undefined)?.reference;
    if (ref?.startsWith('#')) {
      const med = ((r.contained as Array<Resource & { code?: CC }> | undefined) ?? []).find((c) => c.id === ref.slice(1));
      codeSources.push(med?.code as CC);
    }
  } else codeSources.push(r.code as CC);
  for (const c of codings(codeSources.filter(Boolean))) if (c.code) out.push({ param: 'code', system: c.system ?? '', code: c.code });
  if (resource.resourceType === 'AllergyIntolerance') {
    for (const c of (r.category as string[] | undefined) ?? []) out.push({ param: 'category', system: allergyCategorySystem, code: c });
  } else {
    for (const c of codings(r.category as CC | CC[] | undefined)) if (c.code) out.push({ param: 'category', system: c.system ?? '', code: c.code });
  }
  return out;
}
