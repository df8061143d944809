import assert from 'node:assert/strict';
import { HttpError } from '../fhir/outcome.ts';

/** The HTTP status a synchronous parser answers with: 200 when it returns, the HttpError's status when it throws (any other error fails the test). */
export function statusOf(fn: () => unknown): number {
  try {
    fn();
    return 200;
  } catch (err) {
    assert.ok(err instanceof HttpError, String(err));
    return err.status;
  }
}
