import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { testBsn } from '../kit/identifiers/bsn.ts';
import { consentResource, emptyScope, parseConsent, type ParsedConsent } from './fhir.ts';
import { statusOf } from '../kit/testing/status-of.ts';

const base: ParsedConsent = { ...emptyScope(), bsn: testBsn(1001), status: 'active', provision: 'permit' };

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
    assert.equal(statusOf(() => parseConsent(good)), 200);
    assert.equal(statusOf(() => parseConsent({ resourceType: 'Patient' })), 400);
    assert.equal(statusOf(() => parseConsent('x')), 400);
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
      assert.equal(statusOf(() => parseConsent(c)), 422, JSON.stringify(c.provision));
    }
  });

  it('refuses wrongly shaped elements with 422 instead of crashing or ignoring them', () => {
    const good = consentResource(base);
    // biome-ignore lint/suspicious/noExplicitAny: wrong shapes on purpose
    const shapes: Array<(c: any) => void> = [
      (c) => { c.provision.actor = { role: 'x' }; },
      (c) => { c.provision.actor = [null]; },
      (c) => { c.provision.actor = [{ role: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'PRCP' }] }, reference: { identifier: { system: 'http://nictiz.nl/fhir/NamingSystem/organization-type', value: 'constructor' } } }]; },
      (c) => { c.provision.code = { coding: [] }; },
      (c) => { c.provision.code = [null]; },
      (c) => { c.provision.code = [{ coding: 'AllergyIntolerance' }]; },
      (c) => { c.provision.code = [{ coding: [null] }]; },
      (c) => { c.provision.purpose = { code: 'TREAT' }; },
      (c) => { c.provision.purpose = [null]; },
      (c) => { c.provision.provision = { type: 'deny' }; },
      (c) => { c.provision.period = '2025-01-01'; },
    ];
    for (const mutate of shapes) {
      const c = structuredClone(good);
      mutate(c);
      assert.equal(statusOf(() => parseConsent(c)), 422, JSON.stringify(c.provision));
    }
  });

  it('never answers anything but 400/422 for wrongly shaped provision elements (property)', () => {
    const withCategory = consentResource({ ...base, requesterTypes: ['V4'], dataCategories: ['AllergyIntolerance'] });
    const fields = fc.constantFrom('type', 'actor', 'code', 'purpose', 'period', 'provision', 'action');
    // Values that are JSON-ish at every depth, including arrays of wrongly shaped entries.
    const value = fc.oneof(fc.jsonValue(), fc.array(fc.jsonValue(), { maxLength: 3 }), fc.array(fc.dictionary(fc.constantFrom('coding', 'role', 'reference', 'system', 'code'), fc.jsonValue()), { maxLength: 3 }));
    fc.assert(
      fc.property(fc.dictionary(fields, value), (changes) => {
        const c = structuredClone(withCategory);
        Object.assign(c.provision as object, changes);
        const s = statusOf(() => parseConsent(c));
        assert.ok([200, 400, 422].includes(s), `status ${s}`);
        if (s === 200) {
          // Accepted: a non-empty limitation must still limit (a dropped malformed entry would widen the choice).
          const parsed = parseConsent(c);
          if (Array.isArray(changes.code) && changes.code.length > 0) assert.ok(parsed.dataCategories.length > 0);
          if (Array.isArray(changes.actor) && changes.actor.length > 0) {
            assert.ok(parsed.requesterUras.length + parsed.requesterTypes.length + parsed.holderUras.length + parsed.holderTypes.length > 0);
          }
        }
      }),
      { numRuns: 200 },
    );
  });

  it('never throws anything but an HttpError on arbitrary input (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const s = statusOf(() => parseConsent(value));
        assert.ok(s === 400 || s === 422);
      }),
    );
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom('status', 'scope', 'patient', 'provision', 'category'), fc.jsonValue()), (fields) => {
        const s = statusOf(() => parseConsent({ ...consentResource(base), ...fields }));
        assert.ok([200, 400, 422].includes(s));
      }),
    );
  });
});
