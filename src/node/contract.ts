// What other parts may use of the node: the break-the-glass header its interfaces read, and the
// shape of the overview it returns (the source extension, the outcome kinds per holder and per
// category, and the clinical grouping a viewer shows it by), and the services it offers a screen for
// its own clinicians (the clinician viewer its composer mounts from src/portals/clinician/).
// Everything else under src/node is its implementation. (The citizen portal still calls the node's
// merge itself: issue 16 item 2.)

/** Request header carrying a URL-encoded break-the-glass reason (kit/rules/emergency-reason.ts). */
export const EMERGENCY_HEADER = 'ldn-emergency-reason';

export { CATEGORY_OUTCOMES, type CategoryOutcomeKind, type HolderResult, mergeOverview, type OutcomeKind, SOURCE_EXTENSION } from './integration/merge.ts';
export { askHolder, type HolderBatch } from './integration/ask-holder.ts';
export type { ClinicianExchange, ClinicianLogin, ClinicianServices, HandoverDesk } from './clinician-services.ts';
export type { ForeignPatient, ForeignSummaryService } from './foreign-summary.ts';
export { type ClinicalGroup, clinicalDate, groupOf, medicationCode } from './integration/clinical-keys.ts';

// Its error codes, for other parts and tests to test for.
export { NODE_ERRORS, NodeError, type NodeErrorCode } from './errors.ts';

// The EHR side of a node (its ports), for the conformance checks a vendor runs.
export { EhrChangeFeed } from './source/ehr-changes.ts';
export { EhrConnector } from './source/ehr-connector.ts';
