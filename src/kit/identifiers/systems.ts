// Every identifier system and code-system URI the network uses, in one place:
// the public specifications still move (see the steering repository's reference digests), so
// other modules take them from here. Not yet all: a few node and consent modules still spell
// some out (issue 16 lists it).

export const SYSTEM = {
  bsn: 'http://fhir.nl/fhir/NamingSystem/bsn',
  ura: 'http://fhir.nl/fhir/NamingSystem/ura',
  uziPerson: 'http://fhir.nl/fhir/NamingSystem/uzi-nr-pers',
  uziSystem: 'http://fhir.nl/fhir/NamingSystem/uzi-nr-sys',
  uziRole: 'http://fhir.nl/fhir/NamingSystem/uzi-rolcode',
  agb: 'http://fhir.nl/fhir/NamingSystem/agb-z',
  big: 'http://fhir.nl/fhir/NamingSystem/big',
  kvk: 'http://fhir.nl/fhir/NamingSystem/kvk',
  organizationType: 'http://nictiz.nl/fhir/NamingSystem/organization-type',
  nviIdentifier: 'http://minvws.github.io/generiekefuncties-docs/NamingSystem/nvi-identifier',
  oauthClientId: 'http://minvws.github.io/generiekefuncties-docs/NamingSystem/oauth-client-id',
  /** Pseudonym of a patient as known to the transparency log (never a BSN). */
  transparencyPseudonym: 'https://ldn.example.nl/fhir/NamingSystem/transparency-pseudonym',
} as const;

export const CODE_SYSTEM = {
  dataCategories: 'http://minvws.github.io/generiekefuncties-docs/CodeSystem/nl-gf-data-categories-cs',
  authorizationTypes: 'http://minvws.github.io/generiekefuncties-docs/CodeSystem/nl-gf-authorization-type-cs',
  authorizationServerTypes: 'http://minvws.github.io/generiekefuncties-docs/CodeSystem/nl-gf-authorization-server-cs',
  endpointConnectionType: 'http://terminology.hl7.org/CodeSystem/endpoint-connection-type',
  listEmptyReason: 'http://terminology.hl7.org/CodeSystem/list-empty-reason',
  provenanceParticipantType: 'http://terminology.hl7.org/CodeSystem/provenance-participant-type',
  purposeOfUse: 'http://terminology.hl7.org/CodeSystem/v3-ActReason',
  /** Vektis / Nictiz organisation-type codes (OID 2.16.840.1.113883.2.4.15.1060). */
  organizationType: 'http://nictiz.nl/fhir/NamingSystem/organization-type',
  /** LDN's own code system for the exchanges of the agreements document. */
  exchange: 'https://ldn.example.nl/fhir/CodeSystem/exchange',
  /** LDN's own codes for why an overview may be incomplete (portals word them per language). */
  overviewOutcome: 'https://ldn.example.nl/fhir/CodeSystem/overview-outcome',
  /** LDN's own tag for data a citizen sent from her own app (patient-reported, never care-measured). */
  dataOrigin: 'https://ldn.example.nl/fhir/CodeSystem/data-origin',
  loinc: 'http://loinc.org',
  observationCategory: 'http://terminology.hl7.org/CodeSystem/observation-category',
  ucum: 'http://unitsofmeasure.org',
  /** LDN's own codes for why a holder did not release a search's data (patient's choice, policy, failure). */
  withheldReason: 'https://ldn.example.nl/fhir/CodeSystem/withheld-reason',
  /** LDN's stable error codes (ERR_<PART>_<WHAT>, kit/errors.ts): in every OperationOutcome issue's details. */
  errorCode: 'https://ldn.example.nl/fhir/CodeSystem/error-code',
} as const;

export const EXTENSION = {
  localizationCustodian:
    'http://minvws.github.io/generiekefuncties-docs/StructureDefinition/nl-gf-localization-custodian',
} as const;

export const PROFILE = {
  localizationList: 'http://minvws.github.io/generiekefuncties-docs/StructureDefinition/nl-gf-localization-list',
  organization: 'http://minvws.github.io/generiekefuncties-docs/StructureDefinition/nl-gf-organization',
  location: 'http://minvws.github.io/generiekefuncties-docs/StructureDefinition/nl-gf-location',
  healthcareService: 'http://minvws.github.io/generiekefuncties-docs/StructureDefinition/nl-gf-healthcareservice',
  endpoint: 'http://minvws.github.io/generiekefuncties-docs/StructureDefinition/nl-gf-endpoint',
  organizationAffiliation:
    'http://minvws.github.io/generiekefuncties-docs/StructureDefinition/nl-gf-organizationaffiliation',
} as const;

/** OID arc under which UZI server certificates carry the URA (SAN otherName). */
export const UZI_SAN_OID = '2.16.528.1.1007.99.2110';
