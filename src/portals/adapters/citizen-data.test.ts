import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { testBsn } from '../../kit/identifiers/bsn.ts';
import { bsnOfQuery, parseEntryUrl } from '../../node/source/query-translation.ts';
import { defaultAgreements } from '../../trust/agreements/default-agreements.ts';
import { CITIZEN_EXCHANGE, citizenBatch, citizenRoute } from './citizen-data.ts';

// What the portal sends each holder: only the citizen's own BSN, only allow-listed searches of the
// categories the holder registered, at the node's citizen route next to its FHIR base.

const exchange = defaultAgreements().exchanges.find((e) => e.code === CITIZEN_EXCHANGE)!;

describe('citizen data requests', () => {
  it('asks for the Patient plus the searches of the registered categories, each naming her BSN', () => {
    const bsn = testBsn(3);
    const batch = citizenBatch(exchange, ['AllergyIntolerance', 'MedicationUse'], bsn);
    const searches = (batch.bundle.entry ?? []).map((e) => parseEntryUrl(e.request!.url));
    // Each entry says which categories its answer may hold (so a refusal is said per category).
    assert.equal(batch.categories.length, searches.length);
    assert.ok(batch.categories.every((c) => c.length > 0));
    assert.deepEqual(searches.map((s) => s.type).sort(), ['AllergyIntolerance', 'Immunization', 'MedicationDispense', 'MedicationStatement', 'Patient']);
    for (const s of searches) assert.equal(bsnOfQuery(s.type, s.query), bsn);
  });

  it('finds the citizen route next to any FHIR base (property)', () => {
    fc.assert(
      fc.property(fc.webUrl({ withQueryParameters: false, withFragments: false }), fc.stringMatching(/^\d{8}$/), (origin, ura) => {
        const base = `${origin.replace(/\/+$/, '')}/org/${ura}`;
        assert.equal(citizenRoute(`${base}/fhir`), `${base}/citizen/$everything`);
        assert.equal(citizenRoute(`${base}/fhir/`), `${base}/citizen/$everything`);
      }),
    );
  });
});
