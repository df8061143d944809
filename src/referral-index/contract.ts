// What other parts may use of the referral index's own vocabulary: its error codes, to test for
// the code instead of the wording.

export { NVI_ERRORS, NviError, type NviErrorCode, SubjectRefused } from './errors.ts';

// Its client (a node registers and localises; the citizen's portal localises her data).
export { type Holder, ReferralClient } from './client.ts';
