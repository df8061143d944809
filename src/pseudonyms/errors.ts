import { errorCodes, LdnError, type LdnErrorOptions } from '../kit/errors.ts';

// The pseudonym service's error codes, listed once (kit/errors.ts says why; contract.ts offers
// them to other parts). The classes the PRS library throws are these codes with a name.

export const PRS_ERRORS = errorCodes({
  /** A BSN that fails the 11-test (the value is never echoed). */
  ERR_PRS_INVALID_BSN: { status: 400, issue: 'invalid' },
  /** A pseudonym token its recipient cannot open or must not accept (audience, scope, expiry). */
  ERR_PRS_TOKEN_REFUSED: { status: 422, issue: 'processing' },
  /** A blinded or evaluated element that is no valid ristretto255 group element. */
  ERR_PRS_GROUP_REFUSED: { status: 400, issue: 'invalid' },
  /** A JWE this recipient cannot open (ECDH-ES+A256KW). */
  ERR_PRS_JWE_REFUSED: { status: 422, issue: 'processing' },
});
export type PrsErrorCode = keyof typeof PRS_ERRORS;

/** An error of the pseudonym service (see PRS_ERRORS). */
export class PrsError extends LdnError {
  constructor(code: PrsErrorCode, diagnostics: string, options?: LdnErrorOptions) {
    super(code, PRS_ERRORS[code], diagnostics, options);
  }
}

export class InvalidBsnError extends PrsError {
  constructor() {
    // Never echo the value: this message may end up in a log.
    super('ERR_PRS_INVALID_BSN', 'not a valid BSN (11-test failed)');
  }
}

export class TokenRefused extends PrsError {
  constructor(diagnostics: string) {
    super('ERR_PRS_TOKEN_REFUSED', diagnostics);
  }
}

export class GroupRefused extends PrsError {
  constructor(diagnostics: string, options?: LdnErrorOptions) {
    super('ERR_PRS_GROUP_REFUSED', diagnostics, options);
  }
}

export class JweRefused extends PrsError {
  constructor(diagnostics: string) {
    super('ERR_PRS_JWE_REFUSED', diagnostics);
  }
}
