import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AllergyIntolerance, Bundle, Medication, OperationOutcome, Patient, Provenance, Resource } from '@medplum/fhirtypes';
import fc from 'fast-check';
import { CODE_SYSTEM, SYSTEM } from '../../kit/identifiers/systems.ts';
import { CITIZENS, DE_GROOT } from '../../sandbox/cast.ts';
import { ehrDataFor } from '../ehr-sim/cast-data.ts';
import { DE_GROOT_HOLDERS } from '../ehr-sim/de-groot.ts';
import { medicationCode } from './clinical-keys.ts';
import { type HolderResult, mergeOverview, SOURCE_EXTENSION } from './merge.ts';

const NAMES: Record<string, string> = {
  [DE_GROOT_HOLDERS.leiden]: 'Ziekenhuis Leiden',
  [DE_GROOT_HOLDERS.gp]: 'Huisartsenpraktijk Kerkrade',
  [DE_GROOT_HOLDERS.pharmacy]: 'Apotheek Kerkrade',
};

function aboutPatient(resources: Resource[], bsn: string): Resource[] {
  const patient = resources.find(
    (r) => r.resourceType === 'Patient' && (r as Patient).identifier?.some((i) => i.system === SYSTEM.bsn && i.value === bsn),
  );
  if (!patient) return [];
  const ref = `Patient/${patient.id}`;
  return resources.filter((r) => r === patient || JSON.stringify(r).includes(`"${ref}"`));
}

function holder(ura: string, bsn = DE_GROOT.bsn, extra: Partial<HolderResult> = {}): HolderResult {
  return {
    ura,
    name: NAMES[ura] ?? ura,
    endpoint: `https://node.example/org/${ura}/fhir`,
    status: 'ok',
    resources: aboutPatient(ehrDataFor(ura), bsn),
    elapsedMs: 5,
    ...extra,
  };
}

const resources = (b: Bundle) => (b.entry ?? []).map((e) => e.resource as Resource);
const sourcesOf = (r: Resource) =>
  ((r as { extension?: Array<{ url: string; valueReference?: { display?: string } }> }).extension ?? [])
    .filter((e) => e.url === SOURCE_EXTENSION)
    .map((e) => e.valueReference?.display);

describe('merging De Groot overview', () => {
  const { bundle, stats } = mergeOverview({
    bsn: DE_GROOT.bsn,
    holders: [holder(DE_GROOT_HOLDERS.leiden), holder(DE_GROOT_HOLDERS.gp), holder(DE_GROOT_HOLDERS.pharmacy)],
  });
  const all = resources(bundle);

  it('lists the contrast allergy from Leiden first, with its source', () => {
    const clinical = all.filter((r) => !['Patient', 'Provenance', 'OperationOutcome'].includes(r.resourceType));
    assert.equal(clinical[0].resourceType, 'AllergyIntolerance');
    const allergy = clinical[0] as AllergyIntolerance;
    assert.match(JSON.stringify(allergy.code), /contrast/i);
    assert.deepEqual(sourcesOf(allergy), ['Ziekenhuis Leiden']);
  });

  it('merges the same drug from the GP and the pharmacy into one item with both sources', () => {
    const meds = all.filter((r) => r.resourceType.startsWith('Medication'));
    const both = meds.filter((m) => sourcesOf(m).length === 2);
    assert.ok(both.length >= 2, 'atorvastatin and lisinopril come from both holders');
    for (const m of both) assert.deepEqual(new Set(sourcesOf(m)), new Set(['Huisartsenpraktijk Kerkrade', 'Apotheek Kerkrade']));
    assert.ok(stats.merged >= 2);
    const provenance = all.filter((r) => r.resourceType === 'Provenance') as Provenance[];
    assert.equal(provenance.length, stats.items);
  });

  it('points every item at the one merged patient', () => {
    assert.equal(all.filter((r) => r.resourceType === 'Patient').length, 1);
    for (const e of bundle.entry ?? []) {
      const s = (e.resource as { subject?: { reference?: string }; patient?: { reference?: string } }) ?? {};
      const ref = (s.subject ?? s.patient)?.reference;
      if (ref) assert.equal(ref, 'urn:ldn:overview:patient');
    }
  });
});

/**
 * The holder's answer as many EHRs give it: each medication resource references a Medication
 * resource returned alongside (by _include) instead of containing it. `base` makes the
 * references absolute, as some servers write them.
 */
function withReferencedMedication(h: HolderResult, prefix: string, base = ''): HolderResult {
  const out: Resource[] = [];
  for (const r of h.resources) {
    const m = r as Resource & { contained?: Resource[]; medicationReference?: { reference?: string } };
    const med = m.contained?.find((c) => c.resourceType === 'Medication') as Medication | undefined;
    if (!med || m.medicationReference?.reference !== `#${med.id}`) {
      out.push(r);
      continue;
    }
    const id = `${prefix}-${r.id}`;
    out.push({ ...med, id } as Medication);
    out.push({ ...m, contained: undefined, medicationReference: { reference: `${base}Medication/${id}` } } as Resource);
  }
  return { ...h, resources: out };
}

const atcOf = (r: Resource) => medicationCode(r as never)?.coding?.find((c) => c.system === 'http://www.whocc.no/atc')?.code;

describe('merging medication that references a Medication resource', () => {
  const gp = withReferencedMedication(holder(DE_GROOT_HOLDERS.gp), 'gp');
  const pharmacy = withReferencedMedication(holder(DE_GROOT_HOLDERS.pharmacy), 'apo', 'https://ehr.apotheek.example/fhir/');
  const { bundle, stats } = mergeOverview({ bsn: DE_GROOT.bsn, holders: [gp, pharmacy] });
  const all = resources(bundle);
  const meds = all.filter((r) => r.resourceType.startsWith('Medication'));

  it('was given referenced, not contained, Medication', () => {
    assert.ok(gp.resources.some((r) => r.resourceType === 'Medication'));
    assert.ok(pharmacy.resources.some((r) => r.resourceType === 'Medication'));
  });

  it('merges the same drug from both holders, and the item names its drug on its own', () => {
    const both = meds.filter((m) => sourcesOf(m).length === 2);
    assert.ok(both.length >= 2, `merged: ${both.length}`);
    assert.deepEqual(new Set(both.map(atcOf)), new Set(['C10AA05', 'C09AA03']));
    for (const m of meds) assert.ok(atcOf(m), `${m.resourceType} ${m.id} names no drug`);
    assert.ok(stats.merged >= 2);
  });

  it('drops nothing and warns about nothing: a Medication is not about another patient', () => {
    assert.equal(stats.dropped, 0);
    assert.deepEqual(all.filter((r) => r.resourceType === 'OperationOutcome'), []);
    assert.ok(!all.some((r) => r.resourceType === 'Medication'), 'Medication resources are contained in the items, not items');
  });

  it('resolves a reference only against the same holder\'s answer', () => {
    // The GP references Medication the pharmacy returned: the GP's items stay unresolved.
    const pharmacyMeds = pharmacy.resources.filter((r) => r.resourceType === 'Medication');
    const gpItems = gp.resources.filter((r) => r.resourceType !== 'Medication');
    const crossed = gpItems.map((r) =>
      (r as { medicationReference?: unknown }).medicationReference ? { ...r, medicationReference: { reference: `Medication/${pharmacyMeds[0].id}` } } : r,
    );
    const { bundle: crossedBundle } = mergeOverview({ bsn: DE_GROOT.bsn, holders: [{ ...gp, resources: crossed }, pharmacy] });
    const crossedMeds = resources(crossedBundle).filter((r) => r.resourceType.startsWith('Medication'));
    assert.ok(!crossedMeds.some((m) => sourcesOf(m).length === 2), 'nothing is merged across holders through another holder\'s Medication');
    assert.ok(crossedMeds.some((m) => sourcesOf(m)[0] === 'Huisartsenpraktijk Kerkrade' && !atcOf(m)), 'the GP\'s items stand alone');
  });
});

describe('which source stands for a merged drug', () => {
  const { bundle } = mergeOverview({ bsn: DE_GROOT.bsn, holders: [holder(DE_GROOT_HOLDERS.pharmacy), holder(DE_GROOT_HOLDERS.gp)] });
  const all = resources(bundle);
  const meds = all.filter((r) => r.resourceType.startsWith('Medication'));
  const merged = meds.filter((m) => sourcesOf(m).length === 2);

  it('is the GP\'s prescription, active, not the pharmacy\'s completed dispense', () => {
    assert.ok(merged.length >= 2);
    for (const m of merged) {
      assert.equal(m.resourceType, 'MedicationRequest', `${atcOf(m)} is shown as ${m.resourceType}`);
      assert.equal((m as { status?: string }).status, 'active');
      assert.match(m.meta?.source ?? '', new RegExp(`/org/${DE_GROOT_HOLDERS.gp}/fhir/MedicationRequest/`));
    }
  });

  it('ranks the active drugs before completed ones, and keeps every source in the Provenance', () => {
    const firstMerged = meds.indexOf(merged[0]);
    const completed = meds.filter((m) => (m as { status?: string }).status === 'completed');
    for (const c of completed) assert.ok(meds.indexOf(c) > firstMerged, 'a completed dispense does not outrank an active drug');
    const provenance = all.filter((r) => r.resourceType === 'Provenance') as Provenance[];
    for (const m of merged) {
      const fullUrl = bundle.entry?.find((e) => e.resource === m)?.fullUrl;
      const prov = provenance.find((p) => p.target[0].reference === fullUrl)!;
      const kinds = new Set(prov.entity?.map((e) => /\/(Medication\w+)\//.exec(e.what.reference ?? '')?.[1]));
      assert.deepEqual(kinds, new Set(['MedicationRequest', 'MedicationDispense']));
    }
  });
});

describe('merging with faults', () => {
  it('drops data about another patient with a warning naming the holder', () => {
    const other = CITIZENS[1];
    const gp = holder(DE_GROOT_HOLDERS.gp);
    const intruder = holder(DE_GROOT_HOLDERS.gp, other.bsn);
    gp.resources = [...gp.resources, ...intruder.resources];
    const { bundle, stats } = mergeOverview({ bsn: DE_GROOT.bsn, holders: [gp] });
    assert.ok(stats.dropped > 0);
    const text = JSON.stringify(bundle);
    assert.ok(!text.includes(other.bsn), 'the other patient is not in the overview');
    const warnings = resources(bundle).filter((r) => r.resourceType === 'OperationOutcome') as OperationOutcome[];
    assert.ok(warnings.some((w) => /Huisartsenpraktijk Kerkrade/.test(w.issue[0].diagnostics ?? '')));
  });

  it('reports a holder that failed, timed out or refused', () => {
    const { bundle } = mergeOverview({
      bsn: DE_GROOT.bsn,
      holders: [
        holder(DE_GROOT_HOLDERS.leiden, DE_GROOT.bsn, { status: 'timeout', resources: [], reason: 'no answer within 3000 ms' }),
        holder(DE_GROOT_HOLDERS.gp, DE_GROOT.bsn, { status: 'refused', resources: [], reason: 'consent: Deny' }),
      ],
    });
    const oo = resources(bundle).filter((r) => r.resourceType === 'OperationOutcome') as OperationOutcome[];
    assert.deepEqual(oo.map((o) => o.issue[0].code).sort(), ['forbidden', 'timeout']);
    // Coded for portals to word in their reader's language, with the holder's name and URA.
    const coded = oo.map((o) => ({ kind: o.issue[0].details?.coding?.find((c) => c.system === CODE_SYSTEM.overviewOutcome)?.code, holder: o.issue[0].details?.text }));
    assert.deepEqual(coded.sort((a, b) => String(a.kind).localeCompare(String(b.kind))), [
      { kind: 'holder-refused', holder: 'Huisartsenpraktijk Kerkrade' },
      { kind: 'holder-timeout', holder: 'Ziekenhuis Leiden' },
    ]);
  });

  it('never keeps an item whose patient reference is not the requested patient (property)', () => {
    const base = holder(DE_GROOT_HOLDERS.gp);
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...base.resources), { maxLength: 30 }), fc.string({ maxLength: 12 }), (picked, junkRef) => {
        const tampered = picked.map((r, i) =>
          i % 3 === 0 && r.resourceType !== 'Patient' ? { ...r, subject: { reference: `Patient/${junkRef}x` } } : r,
        );
        const { bundle } = mergeOverview({ bsn: DE_GROOT.bsn, holders: [{ ...base, resources: tampered as Resource[] }] });
        for (const e of bundle.entry ?? []) {
          const s = e.resource as { subject?: { reference?: string } };
          if (s.subject) assert.equal(s.subject.reference, 'urn:ldn:overview:patient');
        }
        const items = (bundle.entry ?? []).filter((e) => !['Patient', 'Provenance', 'OperationOutcome'].includes(e.resource!.resourceType));
        const eligible = tampered.filter((r, i) => r.resourceType !== 'Patient' && !(i % 3 === 0)).length;
        assert.ok(items.length <= eligible);
      }),
      { numRuns: 50 },
    );
  });
});

describe('withheld data categories', () => {
  const issues = (b: Bundle) =>
    (resources(b).filter((r) => r.resourceType === 'OperationOutcome') as OperationOutcome[]).map((o) => ({
      code: o.issue[0].code,
      kind: o.issue[0].details?.coding?.find((c) => c.system === CODE_SYSTEM.overviewOutcome)?.code,
      category: o.issue[0].details?.coding?.find((c) => c.system === CODE_SYSTEM.dataCategories)?.code,
      uras: (o.issue[0].details?.coding ?? []).filter((c) => c.system === SYSTEM.ura).map((c) => c.code),
      text: JSON.stringify(o),
    }));

  it("says a category withheld on the patient's choice without naming the holder, also when the holder released other data", () => {
    const { bundle } = mergeOverview({
      bsn: DE_GROOT.bsn,
      holders: [
        holder(DE_GROOT_HOLDERS.leiden, DE_GROOT.bsn, { withheld: [{ category: 'AllergyIntolerance', reason: 'patient-objection' }] }),
        holder(DE_GROOT_HOLDERS.gp, DE_GROOT.bsn, {
          status: 'withheld',
          resources: [],
          withheld: [
            { category: 'AllergyIntolerance', reason: 'patient-objection' },
            { category: 'MedicationUse', reason: 'no-consent' },
          ],
        }),
      ],
    });
    const found = issues(bundle);
    assert.deepEqual(
      found.map(({ code, kind, category, uras }) => ({ code, kind, category, uras })).sort((a, b) => String(a.category).localeCompare(String(b.category))),
      [
        { code: 'suppressed', kind: 'withheld-objection', category: 'AllergyIntolerance', uras: [] },
        { code: 'suppressed', kind: 'withheld-no-consent', category: 'MedicationUse', uras: [] },
      ],
    );
    for (const f of found) assert.ok(!/Huisartsenpraktijk|Leiden/.test(f.text), f.text);
    // The withheld GP is no source and no warning anywhere in the Bundle.
    assert.ok(!JSON.stringify(bundle).includes('Huisartsenpraktijk Kerkrade'));
  });

  it('names the holder for a policy refusal and for a failure, per category; an objection under emergency access is said to hold', () => {
    const { bundle } = mergeOverview({
      bsn: DE_GROOT.bsn,
      emergency: true,
      holders: [
        holder(DE_GROOT_HOLDERS.leiden, DE_GROOT.bsn, {
          status: 'timeout',
          resources: [],
          reason: 'no answer',
          withheld: [{ category: 'AllergyIntolerance', reason: 'timeout' }],
        }),
        holder(DE_GROOT_HOLDERS.gp, DE_GROOT.bsn, { reason: 'not allowed', withheld: [{ category: 'Condition', reason: 'policy' }, { category: 'Patient', reason: 'patient-objection' }] }),
      ],
    });
    const byCategory = new Map(issues(bundle).filter((i) => i.category).map((i) => [i.category, i]));
    assert.equal(byCategory.get('AllergyIntolerance')?.code, 'timeout');
    assert.deepEqual(byCategory.get('AllergyIntolerance')?.uras, [DE_GROOT_HOLDERS.leiden]);
    assert.equal(byCategory.get('Condition')?.kind, 'withheld-policy');
    assert.deepEqual(byCategory.get('Condition')?.uras, [DE_GROOT_HOLDERS.gp]);
    assert.equal(byCategory.get('Patient')?.kind, 'withheld-objection-emergency');
    assert.deepEqual(byCategory.get('Patient')?.uras, []);
  });
});
