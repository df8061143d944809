// Code systems and identifier systems the EHR simulator needs beyond src/kit/identifiers.
// Kept here (not in the kit) because only synthetic source data uses them; the node reads
// them from whatever the EHR sends. Report to the lead if the kit should adopt any.

export const TERMINOLOGY = {
  snomed: 'http://snomed.info/sct',
  loinc: 'http://loinc.org',
  atc: 'http://www.whocc.no/atc',
  ucum: 'http://unitsofmeasure.org',
  conditionClinical: 'http://terminology.hl7.org/CodeSystem/condition-clinical',
  conditionVerification: 'http://terminology.hl7.org/CodeSystem/condition-ver-status',
  conditionCategory: 'http://terminology.hl7.org/CodeSystem/condition-category',
  allergyClinical: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical',
  allergyVerification: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification',
  observationCategory: 'http://terminology.hl7.org/CodeSystem/observation-category',
  observationInterpretation: 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation',
  actCode: 'http://terminology.hl7.org/CodeSystem/v3-ActCode',
  flagCategory: 'http://terminology.hl7.org/CodeSystem/flag-category',
  medicationRequestCategory: 'http://terminology.hl7.org/CodeSystem/medicationrequest-category',
  medicationStatementCategory: 'http://terminology.hl7.org/CodeSystem/medication-statement-category',
  /** The element's own code system for AllergyIntolerance.category (a FHIR `code`, no system). */
  allergyCategory: 'http://hl7.org/fhir/allergy-intolerance-category',
} as const;

/** Base of the identifier systems the simulated EHRs mint for their own records. */
export const EHR_SIM_IDENTIFIER_BASE = 'https://ehr-sim.ldn.example.nl/fhir';

/** Identifier system of one simulated organisation's records of one type (CustodianAssignedIdentifier). */
export function custodianSystem(ura: string, resourceType: string): string {
  return `${EHR_SIM_IDENTIFIER_BASE}/${ura}/${resourceType}`;
}

/** SQL schema of one simulated organisation's EHR store. */
export function ehrSchema(ura: string): string {
  if (!/^[0-9A-Za-z_]{1,50}$/.test(ura)) throw new Error(`invalid URA for a schema name: ${ura}`);
  return `ehr_${ura.toLowerCase()}`;
}
