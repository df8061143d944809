import type { OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';
import { CODE_SYSTEM } from './identifiers/systems.ts';

// Errors with stable codes. A part throws an LdnError (or its own subclass) anywhere; the service
// factory's one error handler (kit/http/service.ts) turns it into the OperationOutcome with the
// status its code means, and puts the code in every issue's `details.coding`, so a client branches
// on `ERR_NVI_SUBJECT_REFUSED` instead of parsing English (as jose's `ERR_JWT_EXPIRED`). Each part
// lists its codes once, in its contract module, where other parts and tests can test for them.
// The message of an LdnError is its diagnostics: what the caller may read, so never a secret, a
// token or a BSN.

export type IssueCode = OperationOutcomeIssue['code'];

/** What a code means on the wire: the HTTP status and the OperationOutcome issue code. */
export interface ErrorMeaning {
  status: number;
  issue: IssueCode;
}

/** A part's codes, each "ERR_<PART>_<WHAT>", with what each means. */
export type ErrorCodes<C extends string = string> = Readonly<Record<C, ErrorMeaning>>;

const CODE_FORMAT = /^ERR(_[A-Z0-9]+)+$/;

/** Declares a table of codes once; refuses (at module load) a code that does not read ERR_…. */
export function errorCodes<const C extends string>(codes: Record<C, ErrorMeaning>): ErrorCodes<C> {
  for (const [code, meaning] of Object.entries<ErrorMeaning>(codes)) {
    if (!CODE_FORMAT.test(code)) throw new Error(`error code ${code} must read ERR_<PART>_<WHAT> in capitals`);
    if (!Number.isInteger(meaning.status) || meaning.status < 400 || meaning.status > 599) throw new Error(`error code ${code}: status ${meaning.status} is not an error status`);
  }
  return Object.freeze(codes);
}

export interface LdnErrorOptions {
  /**
   * The status in this context when it differs from the code's (the code stays): a refused pseudonym
   * token is 422 in a posted resource and 400 in a search parameter.
   */
  status?: number;
  /** FHIRPath of what was wrong (issue.expression). */
  expression?: string[];
  /** Response headers (WWW-Authenticate, Retry-After, Allow). */
  headers?: Record<string, string>;
  /** Issues of their own (a validator's list) instead of the one made from the diagnostics. */
  issues?: OperationOutcomeIssue[];
  cause?: unknown;
}

export class LdnError extends Error {
  /** The stable code ("ERR_PRS_INVALID_BSN"): what clients and tests branch on. */
  readonly code: string;
  /** The HTTP status the error is answered with. */
  readonly status: number;
  /** The OperationOutcome issue code. */
  readonly issueCode: IssueCode;
  readonly headers: Record<string, string>;
  /** The response body: the OperationOutcome with the code in every issue's details. */
  readonly outcome: OperationOutcome;

  constructor(code: string, meaning: ErrorMeaning, diagnostics: string, options: LdnErrorOptions = {}) {
    super(diagnostics, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = options.status ?? meaning.status;
    this.issueCode = meaning.issue;
    this.headers = options.headers ?? {};
    const issues = options.issues ?? [{ severity: this.status >= 500 ? 'fatal' : 'error', code: meaning.issue, diagnostics, expression: options.expression }];
    this.outcome = { resourceType: 'OperationOutcome', issue: issues.map((i) => withCode(i, code)) };
  }

  /** The text the caller reads (issue.diagnostics). */
  get diagnostics(): string {
    return this.message;
  }
}

/** The issue with `code` in its details (an issue that names an LDN code of its own keeps it). */
function withCode(issue: OperationOutcomeIssue, code: string): OperationOutcomeIssue {
  const coding = issue.details?.coding ?? [];
  if (coding.some((c) => c.system === CODE_SYSTEM.errorCode)) return issue;
  return { ...issue, details: { ...issue.details, coding: [...coding, { system: CODE_SYSTEM.errorCode, code }] } };
}

/** True when `err` is an LdnError carrying `code`. */
export function hasErrorCode(err: unknown, code: string): err is LdnError {
  return err instanceof LdnError && err.code === code;
}

/** The LDN error code an OperationOutcome carries (what another part answered), if any. */
export function errorCodeOf(outcome: OperationOutcome | undefined): string | undefined {
  for (const issue of outcome?.issue ?? []) {
    const found = issue.details?.coding?.find((c) => c.system === CODE_SYSTEM.errorCode)?.code;
    if (found) return found;
  }
  return undefined;
}

// The code of an HttpError thrown without one of its own: it says no more than its status.
const GENERIC_CODES: Record<number, string> = {
  400: 'ERR_BAD_REQUEST',
  401: 'ERR_UNAUTHENTICATED',
  403: 'ERR_FORBIDDEN',
  404: 'ERR_NOT_FOUND',
  405: 'ERR_METHOD_NOT_ALLOWED',
  406: 'ERR_NOT_ACCEPTABLE',
  409: 'ERR_CONFLICT',
  410: 'ERR_GONE',
  412: 'ERR_PRECONDITION_FAILED',
  413: 'ERR_TOO_LARGE',
  414: 'ERR_URI_TOO_LONG',
  415: 'ERR_UNSUPPORTED_MEDIA_TYPE',
  422: 'ERR_UNPROCESSABLE',
  428: 'ERR_PRECONDITION_REQUIRED',
  429: 'ERR_TOO_MANY_REQUESTS',
  500: 'ERR_INTERNAL',
  501: 'ERR_NOT_IMPLEMENTED',
  502: 'ERR_BAD_GATEWAY',
  503: 'ERR_UNAVAILABLE',
  504: 'ERR_GATEWAY_TIMEOUT',
};

/** The code for a status when nothing more specific is known. */
export function genericErrorCode(status: number): string {
  return GENERIC_CODES[status] ?? `ERR_HTTP_${status}`;
}

export interface HttpErrorOptions extends Omit<LdnErrorOptions, 'status'> {
  /** A stable code of the part's own; default: the status's generic code (ERR_BAD_REQUEST, …). */
  code?: string;
}

/**
 * An LdnError whose status and issue code are given where it is thrown (the kit/fhir/outcome.ts
 * helpers: badRequest, forbidden, …). Without a code of its own it carries its status's generic
 * code; a refusal a client may want to tell apart deserves a part's own code.
 */
export class HttpError extends LdnError {
  constructor(status: number, code: IssueCode, diagnostics: string, options: HttpErrorOptions = {}) {
    super(options.code ?? genericErrorCode(status), { status, issue: code }, diagnostics, options);
  }
}

// Codes the kit itself answers with (the service factory's refusals and failures).
export const KIT_ERRORS = errorCodes({
  ERR_KIT_CERTIFICATE_REQUIRED: { status: 401, issue: 'security' },
  ERR_KIT_PARTICIPANT_REFUSED: { status: 403, issue: 'security' },
  ERR_KIT_BODY_MALFORMED: { status: 400, issue: 'structure' },
  ERR_KIT_NOT_HTTP: { status: 400, issue: 'structure' },
  ERR_KIT_REQUEST_TIMEOUT: { status: 408, issue: 'timeout' },
  ERR_KIT_HEADERS_TOO_LARGE: { status: 431, issue: 'too-long' },
  ERR_KIT_BODY_TOO_LARGE: { status: 413, issue: 'too-costly' },
  ERR_KIT_MEDIA_TYPE: { status: 415, issue: 'not-supported' },
  ERR_KIT_FORMAT_NOT_SERVED: { status: 406, issue: 'not-supported' },
  ERR_KIT_NO_SUCH_ENDPOINT: { status: 404, issue: 'not-found' },
  ERR_KIT_METHOD_NOT_ALLOWED: { status: 405, issue: 'not-supported' },
  ERR_KIT_DATABASE_UNAVAILABLE: { status: 503, issue: 'transient' },
  ERR_KIT_NOT_READY: { status: 503, issue: 'transient' },
  ERR_KIT_INTERNAL: { status: 500, issue: 'exception' },
  // Refusals at start (never a request's answer; coded all the same, a 500 should one escape).
  ERR_KIT_CONFIG_INVALID: { status: 500, issue: 'exception' },
  ERR_KIT_KEK_INVALID: { status: 500, issue: 'exception' },
  ERR_KIT_KEY_REFUSED: { status: 500, issue: 'exception' },
});
export type KitErrorCode = keyof typeof KIT_ERRORS;

/** An error the kit raises (see KIT_ERRORS); an HttpError, as code written before the codes expects. */
export class KitError extends HttpError {
  constructor(code: KitErrorCode, diagnostics: string, options: Omit<HttpErrorOptions, 'code'> = {}) {
    super(KIT_ERRORS[code].status, KIT_ERRORS[code].issue, diagnostics, { ...options, code });
  }
}

