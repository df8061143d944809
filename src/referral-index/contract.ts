// What other parts may use of the referral index's own vocabulary: its error codes, to test for
// the code instead of the wording. Its client is still imported from client.ts (known crossings).

export { NVI_ERRORS, NviError, type NviErrorCode, SubjectRefused } from './errors.ts';
