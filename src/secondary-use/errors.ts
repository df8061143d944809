import { errorCodes, LdnError, type LdnErrorOptions } from '../kit/errors.ts';

// The HDAB's error codes, listed once (kit/errors.ts says why; contract.ts offers them to other
// parts). A data permit is verified by those who serve it (the holders' bulk export, the PRS's
// research pseudonyms) with the verifier this part offers, so its refusal carries this part's code.

export const HDAB_ERRORS = errorCodes({
  /** A data permit that is not the HDAB's, has expired, or asks for what it may not (deny on error). */
  ERR_HDAB_PERMIT_REFUSED: { status: 403, issue: 'forbidden' },
});
export type HdabErrorCode = keyof typeof HDAB_ERRORS;

/** An error of the HDAB (see HDAB_ERRORS). */
export class HdabError extends LdnError {
  constructor(code: HdabErrorCode, diagnostics: string, options?: LdnErrorOptions) {
    super(code, HDAB_ERRORS[code], diagnostics, options);
  }
}

/** A data permit refused (403); the message says why, never the permit. */
export class PermitRefused extends HdabError {
  constructor(diagnostics: string) {
    super('ERR_HDAB_PERMIT_REFUSED', diagnostics);
  }
}
