import { errorCodes, LdnError, type LdnErrorOptions } from '../kit/errors.ts';

// The NCPeH's error codes, listed once (kit/errors.ts says why; contract.ts offers them to other
// parts). The refusals a foreign contact point or a test may want to tell apart.

export const NCPEH_ERRORS = errorCodes({
  /** The MyHealth@EU trust list is malformed or not signed by every member: the contact point does not start. */
  ERR_NCPEH_TRUST_LIST_INVALID: { status: 500, issue: 'exception' },
  /** The foreign NCPeH's professional assertion is missing, unsigned by a listed member, expired or incomplete. */
  ERR_NCPEH_ASSERTION_REFUSED: { status: 401, issue: 'security' },
  /** The patient's demographics in a cross-border request are missing or malformed. */
  ERR_NCPEH_DEMOGRAPHICS_INVALID: { status: 400, issue: 'invalid' },
  /** The second country's (Belgium's) register cannot identify from the demographics given. */
  ERR_NCPEH_IDENTIFICATION_INVALID: { status: 400, issue: 'invalid' },
});
export type NcpehErrorCode = keyof typeof NCPEH_ERRORS;

/** An error of the NCPeH (see NCPEH_ERRORS). */
export class NcpehError extends LdnError {
  constructor(code: NcpehErrorCode, diagnostics: string, options?: LdnErrorOptions) {
    super(code, NCPEH_ERRORS[code], diagnostics, options);
  }
}

export class TrustListError extends NcpehError {
  constructor(diagnostics: string) {
    super('ERR_NCPEH_TRUST_LIST_INVALID', diagnostics);
  }
}

export class AssertionError extends NcpehError {
  constructor(diagnostics: string) {
    super('ERR_NCPEH_ASSERTION_REFUSED', diagnostics);
  }
}

export class DemographicsError extends NcpehError {
  constructor(diagnostics: string) {
    super('ERR_NCPEH_DEMOGRAPHICS_INVALID', diagnostics);
  }
}

export class IdentificationError extends NcpehError {
  constructor(diagnostics: string) {
    super('ERR_NCPEH_IDENTIFICATION_INVALID', diagnostics);
  }
}
