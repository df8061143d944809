import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Bundle, Composition, Resource } from '@medplum/fhirtypes';
import fc from 'fast-check';
import { defaultAgreements } from '../../../trust/agreements/default-agreements.ts';
import { BGZ_SECTIONS, bgzSections } from './bgz-sections.ts';
import { INCOMPLETE_EXTENSION, IPS_SECTIONS, ipsDocument } from './ips-document.ts';

const patient = { fullUrl: 'urn:ldn:overview:patient', resource: { resourceType: 'Patient', id: 'patient', name: [{ text: 'H. de Groot' }] } as Resource };
const item = (n: number, r: Record<string, unknown>) => ({ fullUrl: `urn:ldn:overview:item-${n}`, resource: { id: `item-${n}`, subject: { reference: 'urn:ldn:overview:patient' }, ...r } as Resource });
const overview = (entries: Array<{ fullUrl: string; resource: Resource }>): Bundle => ({ resourceType: 'Bundle', type: 'collection', entry: [patient, ...entries] });

describe('IPS document', () => {
  it('is a document Bundle whose first entry is the IPS Composition, entries under their sections', () => {
    const doc = ipsDocument({
      overview: overview([
        item(1, { resourceType: 'AllergyIntolerance', patient: { reference: 'urn:ldn:overview:patient' }, code: { text: 'jodiumhoudend contrast' } }),
        item(2, { resourceType: 'Condition', code: { text: 'Hypertensie' } }),
        item(3, { resourceType: 'Observation', category: [{ coding: [{ code: 'laboratory' }] }], code: { text: 'HbA1c' } }),
      ]),
      author: { ura: '90000101', name: 'Ziekenhuis Veluwe' },
    });
    assert.equal(doc.type, 'document');
    assert.ok(doc.identifier?.value?.startsWith('urn:uuid:'));
    const composition = doc.entry?.[0].resource as Composition;
    assert.equal(composition.resourceType, 'Composition');
    assert.equal(composition.type.coding?.[0].code, '60591-5');
    const byCode = new Map(composition.section?.map((s) => [s.code?.coding?.[0].code, s]));
    for (const required of ['48765-2', '10160-0', '11450-4']) assert.ok(byCode.has(required), `required section ${required}`);
    assert.equal(byCode.get('10160-0')?.emptyReason?.coding?.[0].code, 'unavailable', 'no medication: said so');
    assert.equal(byCode.get('48765-2')?.entry?.length, 1);
    assert.equal(byCode.get('30954-2')?.entry?.length, 1);
    assert.ok(!byCode.has('11369-6'), 'an optional section without data is left out');
    // Every reference resolves inside the document; the patient reference too.
    const urls = new Set(doc.entry?.map((e) => e.fullUrl));
    const refs = JSON.stringify(doc).match(/"reference":"([^"]+)"/g)?.map((m) => m.slice(13, -1)) ?? [];
    for (const r of refs) assert.ok(urls.has(r), `dangling reference ${r}`);
    assert.ok(!JSON.stringify(doc).includes('urn:ldn:overview'));
  });

  it('names holders that did not answer', () => {
    const o = overview([]);
    o.entry?.push({ resource: { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'timeout', diagnostics: 'Apotheek Kerkrade: no answer' }] } });
    const composition = ipsDocument({ overview: o, author: { ura: '90000101', name: 'x' } }).entry?.[0].resource as Composition;
    assert.match(composition.extension?.find((e) => e.url === INCOMPLETE_EXTENSION)?.valueString ?? '', /Apotheek Kerkrade/);
  });

  it('puts every clinical item in exactly one section, whatever the overview holds (property)', () => {
    const types = ['AllergyIntolerance', 'Condition', 'MedicationStatement', 'MedicationRequest', 'Immunization', 'Procedure', 'DeviceUseStatement'];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...types), { maxLength: 30 }), (list) => {
        const doc = ipsDocument({ overview: overview(list.map((t, i) => item(i + 1, { resourceType: t }))), author: { ura: '90000101', name: 'x' } });
        const composition = doc.entry?.[0].resource as Composition;
        const referenced = composition.section?.flatMap((s) => s.entry ?? []).map((r) => r.reference) ?? [];
        assert.equal(referenced.length, list.length);
        assert.equal(new Set(referenced).size, list.length);
        for (const s of composition.section ?? []) assert.ok((s.entry?.length ?? 0) > 0 || s.emptyReason, 'a section is filled or says why not');
      }),
      { numRuns: 60 },
    );
  });

  it('covers the data the agreements\' ips exchange can return', () => {
    const ips = defaultAgreements().exchanges.find((e) => e.code === 'ips')!;
    for (const q of ips.queries.filter((x) => x.resourceType !== 'Patient')) {
      const sample = { resourceType: q.resourceType, category: [{ coding: [{ code: q.values?.category?.[0] ?? (q.dataCategory === 'ObservationLaboratory' ? 'laboratory' : 'vital-signs') }] }] } as unknown as Resource;
      assert.ok(IPS_SECTIONS.some((s) => s.holds(sample)), `${q.resourceType} (${q.dataCategory}) has an IPS section`);
    }
  });
});

describe('BgZ sections', () => {
  it('has a section for every search the agreements\' bgz exchange allows', () => {
    const bgz = defaultAgreements().exchanges.find((e) => e.code === 'bgz')!;
    for (const q of bgz.queries) assert.ok(BGZ_SECTIONS.some((s) => s.resourceType === q.resourceType), `${q.resourceType} has a BgZ section`);
  });

  it('counts items per zib, observations by category', () => {
    const counts = bgzSections(
      overview([
        item(1, { resourceType: 'Observation', category: [{ coding: [{ code: 'laboratory' }] }] }),
        item(2, { resourceType: 'Observation', category: [{ coding: [{ code: 'vital-signs' }] }] }),
        item(3, { resourceType: 'Observation', category: [{ coding: [{ code: 'laboratory' }] }] }),
      ]),
    );
    const of = (zib: string) => counts.find((c) => c.zib === zib)?.count;
    assert.equal(of('nl.zorg.LaboratoriumUitslag'), 2);
    assert.equal(of('nl.zorg.Bloeddruk'), 1);
    assert.equal(of('nl.zorg.Patient'), 1);
    assert.equal(of('nl.zorg.Probleem'), 0);
  });
});
