import type { ConsentMode } from '../trust/contract.ts';

// The consent registry's own model: one recorded choice of a citizen, and the closed question a
// data holder asks. The FHIR Consent resource (fhir.ts) is only the external representation.

export type Provision = 'permit' | 'deny';

/** Who or what a choice applies to. Empty lists mean "any". */
export interface ConsentScope {
  /** Data holders (custodians) by URA. */
  holderUras: string[];
  /** Data holders by organisation type (Vektis code). */
  holderTypes: string[];
  /** Requesters (recipients) by URA. */
  requesterUras: string[];
  /** Requesters by organisation type. */
  requesterTypes: string[];
  /** GF data categories. */
  dataCategories: string[];
}

/** A choice as the citizen states it. A 'deny' is an objection (EHDS opt-out when unscoped). */
export interface ConsentChoiceFields extends ConsentScope {
  bsn: string;
  status: 'active' | 'inactive';
  provision: Provision;
  periodStart?: Date;
  periodEnd?: Date;
  /** What the choice is about: care (TREAT, the default) or secondary use (HRESCH); the two never mix. */
  purpose?: ConsentPurpose;
}

/** The current version of one choice. */
export interface ConsentRecord extends ConsentChoiceFields {
  id: string;
  version: number;
}

export const PURPOSE_TREAT = 'TREAT';
/** Secondary use (EHDS): research; an objection is the citizen's opt-out, the default is Permit. */
export const PURPOSE_RESEARCH = 'HRESCH';
export type ConsentPurpose = typeof PURPOSE_TREAT | typeof PURPOSE_RESEARCH;

/** The Mitz attribute set, as JSON. */
export interface ClosedQuestion {
  bsn: string;
  holderUra: string;
  holderType: string;
  requesterUra: string;
  requesterType: string;
  /** UZI role code of the professional. */
  requesterRole: string;
  /** UZI/Dezi number of the professional. */
  requesterId: string;
  purposeOfUse: string;
  eventCode: string;
  /** Optional: the GF data category the holder is about to release. */
  dataCategory?: string;
  /** Optional: the exchange (agreements code) the question is asked for; checked against the event code. */
  exchange?: string;
}

export type ClosedDecision = 'Permit' | 'Deny' | 'NotApplicable';

export type DecidingRule =
  | { kind: 'record'; consentId: string; version: number; provision: Provision; specificity: number }
  | { kind: 'network-default'; mode: ConsentMode }
  | { kind: 'not-applicable'; reason: string };

export interface ClosedAnswer {
  decision: ClosedDecision;
  rule: DecidingRule;
  /** Human-readable explanation (never contains the BSN). */
  reason: string;
}
