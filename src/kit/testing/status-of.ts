import assert from 'node:assert/strict';
import { LdnError } from '../errors.ts';

/** The HTTP status a synchronous parser answers with: 200 when it returns, the LdnError's status when it throws (any other error fails the test). */
export function statusOf(fn: () => unknown): number {
  try {
    fn();
    return 200;
  } catch (err) {
    assert.ok(err instanceof LdnError, String(err));
    return err.status;
  }
}
