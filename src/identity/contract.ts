// What other parts may use of the identity part's own vocabulary: its error codes (why a
// verklaring was refused), to test for the code instead of the wording. Relying parties reach the
// verklaring check itself through the trust part (trust/verklaring.ts loads it by path).

export { IDENTITY_ERRORS, IdentityError, type IdentityErrorCode } from './errors.ts';
