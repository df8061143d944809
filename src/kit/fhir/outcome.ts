import type { OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';

// Every error any part returns is an OperationOutcome with the matching HTTP status.
// Throw an HttpError anywhere in a handler; the service factory turns it into the response.

export type IssueCode = OperationOutcomeIssue['code'];

export class HttpError extends Error {
  readonly status: number;
  readonly outcome: OperationOutcome;
  readonly headers: Record<string, string>;

  constructor(status: number, code: IssueCode, diagnostics: string, options: { expression?: string[]; headers?: Record<string, string>; issues?: OperationOutcomeIssue[] } = {}) {
    super(diagnostics);
    this.status = status;
    this.headers = options.headers ?? {};
    this.outcome = operationOutcome(
      options.issues ?? [{ severity: status >= 500 ? 'fatal' : 'error', code, diagnostics, expression: options.expression }],
    );
  }
}

export function operationOutcome(issues: OperationOutcomeIssue[]): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: issues };
}

export function outcomeIssue(severity: OperationOutcomeIssue['severity'], code: IssueCode, diagnostics: string): OperationOutcomeIssue {
  return { severity, code, diagnostics };
}

export const badRequest = (msg: string, expression?: string[]) => new HttpError(400, 'invalid', msg, { expression });
export const unauthorized = (msg: string) =>
  new HttpError(401, 'login', msg, { headers: { 'www-authenticate': 'Bearer error="invalid_token"' } });
export const forbidden = (msg: string) => new HttpError(403, 'forbidden', msg);
export const notFound = (msg: string) => new HttpError(404, 'not-found', msg);
export const conflict = (msg: string) => new HttpError(409, 'conflict', msg);
export const preconditionFailed = (msg: string) => new HttpError(412, 'conflict', msg);
export const preconditionRequired = (msg: string) => new HttpError(428, 'required', msg);
export const unprocessable = (msg: string, issues?: OperationOutcomeIssue[]) =>
  new HttpError(422, 'processing', msg, { issues });
export const tooManyRequests = (msg: string, retryAfterSeconds: number) =>
  new HttpError(429, 'throttled', msg, { headers: { 'retry-after': String(retryAfterSeconds) } });
export const serverError = (msg: string) => new HttpError(500, 'exception', msg);
