import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Observation, Patient } from '@medplum/fhirtypes';
import fc from 'fast-check';
import { HttpError } from '../../kit/fhir/outcome.ts';
import { SYSTEM } from '../../kit/identifiers/index.ts';
import { backends } from '../../kit/testing/backends.ts';
import { DE_GROOT } from '../../sandbox/cast.ts';
import { ehrDataFor } from './cast-data.ts';
import { DE_GROOT_HOLDERS } from './de-groot.ts';
import { parseDate, parsePatientReference, parseToken } from './search-params.ts';
import { changesSince, deleteResource, EHR_MIGRATIONS, putResource, readResource, searchResources, seedEhr } from './store.ts';
import { TERMINOLOGY } from './systems.ts';

const page = { count: 100, offset: 0 };
const q = (entries: Record<string, string | string[]>) => new Map(Object.entries(entries).map(([k, v]) => [k, Array.isArray(v) ? v : [v]]));

for (const backend of await backends()) {
  describe(`EHR simulator store on ${backend.name}`, () => {
    it('finds De Groot by BSN and searches his data by patient, code, category and _lastUpdated', async () => {
      const store = await backend.open('ehr_test', EHR_MIGRATIONS);
      try {
        const ura = DE_GROOT_HOLDERS.gp;
        await seedEhr(store, ura, ehrDataFor(ura));
        const found = await searchResources(store, 'Patient', q({ identifier: `${SYSTEM.bsn}|${DE_GROOT.bsn}` }), page);
        assert.equal(found.total, 1);
        const pid = found.resources[0].id as string;
        const conditions = await searchResources(store, 'Condition', q({ patient: `Patient/${pid}` }), page);
        assert.ok(conditions.total >= 3);
        const byIdentifier = await searchResources(store, 'Condition', q({ 'patient.identifier': `${SYSTEM.bsn}|${DE_GROOT.bsn}` }), page);
        assert.equal(byIdentifier.total, conditions.total);
        const hypertension = await searchResources(store, 'Condition', q({ patient: pid, code: `${TERMINOLOGY.snomed}|38341003` }), page);
        assert.equal(hypertension.total, 1);
        const statin = await searchResources(store, 'MedicationRequest', q({ patient: pid, code: 'C10AA05' }), page);
        assert.equal(statin.total, 1);
        const labs = await searchResources(store, 'Observation', q({ subject: `Patient/${pid}`, category: 'laboratory' }), page);
        const vitals = await searchResources(store, 'Observation', q({ subject: `Patient/${pid}`, category: `${TERMINOLOGY.observationCategory}|vital-signs` }), page);
        const allObs = await searchResources(store, 'Observation', q({ subject: `Patient/${pid}` }), page);
        assert.ok(labs.total > 0 && vitals.total > 0);
        assert.equal(labs.total + vitals.total, allObs.total);
        for (const o of labs.resources as Observation[]) assert.equal(o.category?.[0].coding?.[0].code, 'laboratory');
        const recent = await searchResources(store, 'Observation', q({ subject: pid, _lastUpdated: 'ge2025-05-01' }), page);
        assert.ok(recent.total > 0 && recent.total < allObs.total);
        for (const o of recent.resources) assert.ok((o.meta?.lastUpdated ?? '') >= '2025-05-01');
        const paged = await searchResources(store, 'Observation', q({ subject: pid }), { count: 2, offset: 2 });
        assert.equal(paged.resources.length, 2);
        assert.equal(paged.total, allObs.total);
        assert.equal((await searchResources(store, 'Condition', q({ patient: 'nobody' }), page)).total, 0);
      } finally {
        await store.close();
      }
    });

    it('create, update and delete are visible in reads, searches and the change feed', async () => {
      const store = await backend.open('ehr_test', EHR_MIGRATIONS);
      try {
        const ura = '90000106';
        const seeded = await seedEhr(store, ura, ehrDataFor(ura));
        const changes = await changesSince(store, 0, 5000);
        assert.equal(changes.length, seeded);
        const last = changes[changes.length - 1].seq;
        const patient: Patient = { resourceType: 'Patient', identifier: [{ system: SYSTEM.bsn, value: '999990019' }], name: [{ family: 'Nieuw' }] };
        const { resource: created, created: isNew } = await putResource(store, ura, patient);
        assert.ok(isNew && created.id);
        assert.ok(
          (created as Patient).identifier?.some((i) => i.assigner?.identifier?.value === ura),
          'custodian identifier added',
        );
        const obs: Observation = { resourceType: 'Observation', status: 'final', code: { coding: [{ system: TERMINOLOGY.loinc, code: '8867-4' }] }, subject: { reference: `Patient/${created.id}` }, valueQuantity: { value: 72, unit: '/min' } };
        const { resource: o1 } = await putResource(store, ura, obs);
        const { resource: o2, created: c2 } = await putResource(store, ura, { ...o1, status: 'amended' } as Observation, { id: o1.id });
        assert.equal(c2, false);
        assert.equal(o2.meta?.versionId, '2');
        const read = await readResource(store, 'Observation', o1.id as string);
        assert.equal(read.status === 'ok' && (read.resource as Observation).status, 'amended');
        assert.equal(await deleteResource(store, 'Observation', o1.id as string), true);
        assert.equal(await deleteResource(store, 'Observation', o1.id as string), false);
        assert.deepEqual(await readResource(store, 'Observation', o1.id as string), { status: 'gone' });
        assert.deepEqual(await readResource(store, 'Observation', 'never-was'), { status: 'missing' });
        assert.equal((await searchResources(store, 'Observation', q({ patient: created.id as string }), page)).total, 0);
        const feed = await changesSince(store, last);
        assert.deepEqual(
          feed.map((c) => [c.action, c.resourceType, c.versionId]),
          [['create', 'Patient', '1'], ['create', 'Observation', '1'], ['update', 'Observation', '2'], ['delete', 'Observation', '3']],
        );
        assert.equal(feed[3].patient, `Patient/${created.id}`);
        await assert.rejects(putResource(store, ura, { resourceType: 'Basic' } as never), HttpError);
      } finally {
        await store.close();
      }
    });

    it('the allow-listed queries\' parameters: clinical-status, status, class, type, date, started, _include', async () => {
      const store = await backend.open('ehr_test_params', EHR_MIGRATIONS);
      try {
        const ura = '90000107';
        const { resource: p } = await putResource(store, ura, { resourceType: 'Patient', identifier: [{ system: SYSTEM.bsn, value: '999990020' }] } as Patient);
        const subject = { reference: `Patient/${p.id}` };
        const clinical = (code: string) => ({ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code }] });
        const put = (r: Record<string, unknown>) => putResource(store, ura, { ...r, subject, patient: subject } as never).then((x) => x.resource.id as string);
        const active = await put({ resourceType: 'Condition', clinicalStatus: clinical('active'), code: { text: 'a' } });
        const resolved = await put({ resourceType: 'Condition', clinicalStatus: clinical('resolved'), code: { text: 'b' } });
        const using = await put({ resourceType: 'MedicationStatement', status: 'active', medicationReference: { reference: '#m' }, contained: [{ resourceType: 'Medication', id: 'm' }] });
        const stopped = await put({ resourceType: 'MedicationStatement', status: 'stopped', medicationCodeableConcept: { text: 'x' } });
        const early = await put({ resourceType: 'Observation', status: 'final', code: { text: 'bp' }, effectiveDateTime: '2024-03-01T10:00:00Z' });
        const late = await put({ resourceType: 'Observation', status: 'final', code: { text: 'bp' }, effectivePeriod: { start: '2026-01-02' } });
        const visit = await put({ resourceType: 'Encounter', status: 'finished', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'EMER' }, period: { start: '2025-06-01T08:00:00Z' } });
        const study = await put({ resourceType: 'ImagingStudy', status: 'available', started: '2025-06-01T09:00:00Z', series: [{ uid: '1.2', modality: { system: 'http://dicom.nema.org/resources/ontology/DCM', code: 'CT' } }] });
        const transfer = await put({ resourceType: 'Composition', status: 'final', type: { coding: [{ system: 'http://loinc.org', code: '18761-7' }] }, date: '2025-06-02', title: 't', author: [] });
        const ids = async (type: string, params: Record<string, string | string[]>) =>
          (await searchResources(store, type, q({ patient: p.id as string, ...params }), page)).resources.map((r) => r.id).sort();
        assert.deepEqual(await ids('Condition', { 'clinical-status': 'active' }), [active]);
        assert.deepEqual(await ids('Condition', { 'clinical-status': 'http://terminology.hl7.org/CodeSystem/condition-clinical|resolved' }), [resolved]);
        assert.deepEqual(await ids('Condition', { 'clinical-status': 'other-system|active' }), []);
        assert.deepEqual(await ids('Condition', { 'clinical-status': 'active,resolved' }), [active, resolved].sort());
        assert.deepEqual(await ids('MedicationStatement', { status: 'active' }), [using]);
        assert.deepEqual(await ids('MedicationStatement', { status: 'stopped', _include: 'MedicationStatement:medication' }), [stopped]);
        assert.deepEqual(await ids('Observation', { date: 'ge2025-01-01' }), [late]);
        assert.deepEqual(await ids('Observation', { date: ['ge2024-01-01', 'lt2025'] }), [early]);
        assert.deepEqual(await ids('Encounter', { class: 'EMER', date: '2025-06-01' }), [visit]);
        assert.deepEqual(await ids('Encounter', { class: 'AMB' }), []);
        assert.deepEqual(await ids('ImagingStudy', { modality: 'CT', started: 'ge2025-05' }), [study]);
        assert.deepEqual(await ids('Composition', { type: 'http://loinc.org|18761-7', status: 'final' }), [transfer]);
        await assert.rejects(searchResources(store, 'MedicationStatement', q({ _include: 'Patient:link' }), page), HttpError);
        await assert.rejects(searchResources(store, 'Observation', q({ date: 'yesterday' }), page), HttpError);
      } finally {
        await store.close();
      }
    });
  });
}

describe('search parameter parsers', () => {
  it('tokens round-trip system and code', () => {
    fc.assert(
      fc.property(fc.webUrl(), fc.stringMatching(/^[A-Za-z0-9.-]{1,20}$/), (system, code) => {
        assert.deepEqual(parseToken(`${system}|${code}`), { system, code });
        assert.deepEqual(parseToken(code), { code });
        assert.deepEqual(parseToken(`|${code}`), { system: '', code });
        assert.deepEqual(parseToken(`${system}|`), { system });
      }),
    );
    assert.throws(() => parseToken('|'), HttpError);
  });

  it('dates: a range of the given precision, and only HttpErrors for junk', () => {
    fc.assert(
      fc.property(fc.date({ min: new Date('1900-01-01'), max: new Date('2100-01-01'), noInvalidDate: true }), (d) => {
        const day = d.toISOString().slice(0, 10);
        const q1 = parseDate(`ge${day}`);
        assert.equal(q1.prefix, 'ge');
        assert.equal(q1.end - q1.start, 86_400_000);
        const inst = parseDate(d.toISOString().replace(/\.\d+Z$/, 'Z'));
        assert.equal(inst.start, Math.floor(d.getTime() / 1000) * 1000);
      }),
    );
    fc.assert(
      fc.property(fc.string(), (s) => {
        try {
          parseDate(s);
        } catch (err) {
          assert.ok(err instanceof HttpError);
        }
      }),
    );
    assert.equal(parseDate('2024').end, Date.UTC(2025, 0, 1));
    assert.equal(parseDate('2024-02').end, Date.UTC(2024, 2, 1));
  });

  it('patient references accept relative, bare and absolute forms', () => {
    assert.equal(parsePatientReference('Patient/abc-1'), 'abc-1');
    assert.equal(parsePatientReference('abc-1'), 'abc-1');
    assert.equal(parsePatientReference('https://x.example/fhir/Patient/abc-1'), 'abc-1');
    assert.throws(() => parsePatientReference('Patient/a b'), HttpError);
  });
});
