// What other parts may use of the pseudonym service's own vocabulary: its error codes (a refused
// token, an invalid BSN), to test for the code instead of the wording. Its client and the
// recipient library other parts embed are still imported from their files (known crossings).

export { GroupRefused, InvalidBsnError, JweRefused, PRS_ERRORS, PrsError, type PrsErrorCode, TokenRefused } from './errors.ts';
