// What other parts may use of the consent registry: the Consent wire format a portal writes,
// the change notification a node reads, and the policy decision point a holder embeds (the
// consent oracle over the registry's HTTP interface, cached and cleared by notifications).
// Everything else under src/consent is its implementation.
export { consentResource, parseConsent, type ParsedConsent } from './fhir.ts';
export type { ClosedAnswer, ClosedQuestion } from './model.ts';
export { parseConsentNotification } from './notifications.ts';
export { createPdp, type Pdp } from './pdp/evaluate.ts';
export { HolderSubscriptions } from './pdp/holder-subscriptions.ts';
export { CachedConsentOracle, type ConsentOracle, HttpConsentOracle } from './pdp/oracle.ts';
export { checkQuery } from './pdp/query.ts';
export type { PdpDecision, PdpReason, Qualification } from './pdp/types.ts';
