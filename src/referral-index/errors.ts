import { errorCodes, LdnError, type LdnErrorOptions } from '../kit/errors.ts';

// The referral index's (NVI's) error codes, listed once (kit/errors.ts says why; contract.ts
// offers them to other parts).

export const NVI_ERRORS = errorCodes({
  /** A subject identifier that is no pseudonym token this NVI may open (422 in a posted List, 400 in a search). */
  ERR_NVI_SUBJECT_REFUSED: { status: 422, issue: 'processing' },
});
export type NviErrorCode = keyof typeof NVI_ERRORS;

/** An error of the referral index (see NVI_ERRORS). */
export class NviError extends LdnError {
  constructor(code: NviErrorCode, diagnostics: string, options?: LdnErrorOptions) {
    super(code, NVI_ERRORS[code], diagnostics, options);
  }
}

/** The subject identifier was refused; the message never quotes the token. */
export class SubjectRefused extends NviError {
  constructor(diagnostics: string, options?: LdnErrorOptions) {
    super('ERR_NVI_SUBJECT_REFUSED', diagnostics, options);
  }
}
