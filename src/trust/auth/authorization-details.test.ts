import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { WORKFLOW_TASK_DETAIL, workflowTaskOf } from './claims.ts';
import { OAuthError } from './oauth-error.ts';
import { parseAuthorizationDetails } from './token-issuer.ts';

// RFC 9396 authorization_details as the token endpoint reads them from a form field: anything
// malformed is invalid_authorization_details (400), never a crash; what is kept is exactly the
// common string fields of each entry.

const refusedAsDetails = (e: unknown) => e instanceof OAuthError && e.error === 'invalid_authorization_details' && e.status === 400;

describe('authorization_details parser (RFC 9396)', () => {
  it('reads a workflow Task entry and the claim reader finds its Task', () => {
    const raw = JSON.stringify([{ type: WORKFLOW_TASK_DETAIL, identifier: 'Task/abc-1', locations: ['https://n.example/org/90000101'], extra: { x: 1 } }]);
    const parsed = parseAuthorizationDetails(raw)!;
    assert.deepEqual(parsed, [{ type: WORKFLOW_TASK_DETAIL, identifier: 'Task/abc-1', locations: ['https://n.example/org/90000101'] }]);
    assert.equal(workflowTaskOf({ authorization_details: parsed }), 'abc-1');
    assert.equal(parseAuthorizationDetails(undefined), undefined);
  });

  it('the claim reader ignores other types, other identifiers and junk', () => {
    assert.equal(workflowTaskOf({}), undefined);
    assert.equal(workflowTaskOf({ authorization_details: 'Task/x' }), undefined);
    assert.equal(workflowTaskOf({ authorization_details: [{ type: 'payment', identifier: 'Task/x' }] }), undefined);
    assert.equal(workflowTaskOf({ authorization_details: [{ type: WORKFLOW_TASK_DETAIL, identifier: 'Composition/x' }] }), undefined);
    assert.equal(workflowTaskOf({ authorization_details: [{ type: WORKFLOW_TASK_DETAIL, identifier: 'Task/../x' }] }), undefined);
    assert.equal(workflowTaskOf({ authorization_details: [null, 3] }), undefined);
  });

  it('refuses malformed values with invalid_authorization_details', () => {
    for (const raw of ['', 'x', '{}', '[]', '[1]', '[{}]', '[{"type":""}]', '[{"type":3}]', '[{"type":"a","identifier":5}]', '[{"type":"a","locations":"x"}]', '[{"type":"a","actions":[1]}]', JSON.stringify(Array(5).fill({ type: 'a' })), `[{"type":"${'a'.repeat(5000)}"}]`]) {
      assert.throws(() => parseAuthorizationDetails(raw), refusedAsDetails, raw.slice(0, 40));
    }
  });

  it('property: any string either parses to well-formed entries or is refused as such', () => {
    const entry = fc.record(
      { type: fc.oneof(fc.string(), fc.constant(WORKFLOW_TASK_DETAIL), fc.integer()), identifier: fc.oneof(fc.string(), fc.integer()), locations: fc.oneof(fc.array(fc.string()), fc.string()), actions: fc.array(fc.oneof(fc.string(), fc.integer())) },
      { requiredKeys: [] },
    );
    const raw = fc.oneof(fc.string(), fc.json(), fc.array(fc.oneof(entry, fc.anything()), { maxLength: 6 }).map((a) => JSON.stringify(a)));
    fc.assert(
      fc.property(raw, (r) => {
        let parsed: ReturnType<typeof parseAuthorizationDetails>;
        try {
          parsed = parseAuthorizationDetails(r);
        } catch (e) {
          assert.ok(refusedAsDetails(e), String(e));
          return;
        }
        assert.ok(Array.isArray(parsed) && parsed.length >= 1 && parsed.length <= 4);
        for (const d of parsed) {
          assert.ok(typeof d.type === 'string' && d.type.length > 0);
          for (const k of Object.keys(d)) assert.ok(['type', 'identifier', 'locations', 'actions'].includes(k), k);
          if (d.identifier !== undefined) assert.equal(typeof d.identifier, 'string');
          for (const l of [...(d.locations ?? []), ...(d.actions ?? [])]) assert.equal(typeof l, 'string');
        }
        // The claim reader never throws on what the parser keeps.
        workflowTaskOf({ authorization_details: parsed });
      }),
      { numRuns: 400 },
    );
  });
});
