// URIs the consent part needs beyond the kit's SYSTEM/CODE_SYSTEM. Kept in one place so they can
// move into src/kit/identifiers/systems.ts (reported to the lead) without touching callers.

export const CONSENT_URI = {
  /** FHIR R4 Consent.scope: what the consent is about. */
  consentScope: 'http://terminology.hl7.org/CodeSystem/consentscope',
  /** Consent.category: LOINC 59284-0 "Patient Consent". */
  loinc: 'http://loinc.org',
  /** Consent.policyRule: OPTIN / OPTOUT. */
  actCode: 'http://terminology.hl7.org/CodeSystem/v3-ActCode',
  /** provision.actor.role: PRCP (recipient = requester) and CST (custodian = data holder). */
  participationType: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType',
  /** provision.action: access. */
  consentAction: 'http://terminology.hl7.org/CodeSystem/consentaction',
  /** The topic a holder subscribes to (Subscriptions R5 backport on R4). */
  consentTopic: 'https://ldn.example.nl/fhir/SubscriptionTopic/consent-changed',
  backportFilterCriteria: 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-filter-criteria',
  backportPayloadContent: 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-payload-content',
  backportSubscriptionStatus: 'http://hl7.org/fhir/uv/subscriptions-backport/StructureDefinition/backport-subscription-status-r4',
  /** Who recorded a consent on the citizen's behalf (extension on Consent). */
  recordedOnBehalf: 'https://ldn.example.nl/fhir/StructureDefinition/consent-recorded-on-behalf',
} as const;

// The GF data categories a consent may be restricted to are the kit's DATA_CATEGORY_CODES
// (kit/fhir/profiles/gf-codes.ts): one list for the network.
