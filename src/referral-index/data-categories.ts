// GF data categories accepted as List.code (value set nl-gf-zorgcontext-vs). The digest names the
// 32 codes of nl-gf-data-categories-cs and says the value set is a 28-code subset; we take it to
// be the clinical codes, i.e. without the four infrastructure categories listed below.

const ALL_CODES = [
  'AdvanceDirective', 'Alert', 'AllergyIntolerance', 'CareServiceEntities', 'Condition', 'Consent', 'Definitional',
  'Device', 'DiagnosticReport', 'Encounter', 'Episode', 'Genomics', 'Imaging', 'Logging', 'MedicationRequest',
  'MedicationUse', 'Nutrition', 'ObservationActivity', 'ObservationExam', 'ObservationImaging', 'ObservationLaboratory',
  'ObservationProcedure', 'ObservationSocialHistory', 'ObservationSurvey', 'ObservationTherapy', 'ObservationVitalSigns',
  'Patient', 'Practitioner', 'Procedure', 'Request', 'Specimen', 'Subscription',
] as const;

const NOT_CARE_CONTEXT = new Set(['CareServiceEntities', 'Definitional', 'Logging', 'Subscription']);

export const CARE_CONTEXT_CATEGORIES: ReadonlySet<string> = new Set(ALL_CODES.filter((c) => !NOT_CARE_CONTEXT.has(c)));

/** Category codes are short identifiers; anything else is refused before it reaches SQL or logs. */
export function isCategoryToken(code: string): boolean {
  return /^[A-Za-z][A-Za-z0-9-]{0,63}$/.test(code);
}
