import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { HttpError } from '../kit/fhir/outcome.ts';
import { testBsn } from '../kit/identifiers/bsn.ts';
import { consentResource, emptyScope, parseConsent, type ParsedConsent } from './fhir.ts';

const base: ParsedConsent = { ...emptyScope(), bsn: testBsn(1001), status: 'active', provision: 'permit' };

function status(fn: () => unknown): number {
  try {
    fn();
    return 200;
  } catch (err) {
    assert.ok(err instanceof HttpError, String(err));
    return err.status;
  }
}

describe('FHIR Consent mapping', () => {
  it('round-trips every scope dimension', () => {
    const choice: ParsedConsent = {
      ...base,
      provision: 'deny',
      requesterUras: ['90000101'],
      requesterTypes: ['V4'],
      holderUras: ['90000102'],
      holderTypes: ['J8'],
      dataCategories: ['AllergyIntolerance', 'MedicationUse'],
      periodStart: new Date('2025-01-01T00:00:00Z'),
      periodEnd: new Date('2026-01-01T00:00:00Z'),
    };
    assert.deepEqual(parseConsent(consentResource(choice)), choice);
  });

  it('refuses broken rules with 422 and non-Consents with 400', () => {
    const good = consentResource(base);
    assert.equal(status(() => parseConsent(good)), 200);
    assert.equal(status(() => parseConsent({ resourceType: 'Patient' })), 400);
    assert.equal(status(() => parseConsent('x')), 400);
    // biome-ignore lint/suspicious/noExplicitAny: mutations reach into arbitrary fields on purpose
    const broken: Array<(c: any) => void> = [
      (c) => { c.patient.identifier.value = '123456789'; },
      (c) => { c.patient.identifier.system = 'urn:x'; },
      (c) => { c.status = 'draft'; },
      (c) => { c.scope.coding[0].code = 'research'; },
      (c) => { delete c.provision; },
      (c) => { c.provision.type = 'maybe'; },
      (c) => { c.provision.code = [{ coding: [{ system: 'urn:x', code: 'AllergyIntolerance' }] }]; },
      (c) => { c.provision.purpose = [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'HRESCH' }]; },
      (c) => { c.provision.actor = [{ role: { coding: [] }, reference: { identifier: { system: 'x', value: '1' } } }]; },
      (c) => { c.provision.provision = [{ type: 'deny' }]; },
      (c) => { c.provision.period = { start: '2026-01-01', end: '2025-01-01' }; },
    ];
    for (const mutate of broken) {
      const c = structuredClone(good);
      mutate(c);
      assert.equal(status(() => parseConsent(c)), 422, JSON.stringify(c.provision));
    }
  });

  it('never throws anything but an HttpError on arbitrary input (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const s = status(() => parseConsent(value));
        assert.ok(s === 400 || s === 422);
      }),
    );
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom('status', 'scope', 'patient', 'provision', 'category'), fc.jsonValue()), (fields) => {
        const s = status(() => parseConsent({ ...consentResource(base), ...fields }));
        assert.ok([200, 400, 422].includes(s));
      }),
    );
  });
});
