import type { OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';
import { HttpError, type IssueCode } from '../errors.ts';

// Every error any part returns is an OperationOutcome with the matching HTTP status: throw an
// HttpError (kit/errors.ts: an LdnError whose status and issue are given where it is thrown) or a
// part's own coded error anywhere in a handler; the service factory turns it into the response.
// The helpers below give the common refusals their generic codes.

export { HttpError, type HttpErrorOptions, type IssueCode } from '../errors.ts';

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
