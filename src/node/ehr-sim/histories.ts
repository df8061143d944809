import type { Resource } from '@medplum/fhirtypes';
import {
  ALLERGENS,
  type AllergenKey,
  CONDITIONS,
  type ConditionKey,
  DRUGS,
  type DrugKey,
  FLAGS,
  LABS,
  type LabKey,
  PROCEDURES,
  TREATMENT,
  VACCINES,
} from './catalogue.ts';
import * as b from './build.ts';
import { Chart, type Holder, type PersonData } from './build.ts';
import { ageAt, daysBefore } from './dates.ts';
import { type Rng, rng } from './random.ts';

// One person's clinical life, decided once from the seed, and what each kind of care
// organisation would hold of it. The same profile feeds every holder, so the GP's
// prescriptions and the pharmacy's dispenses agree, as they would in reality.

export interface ClinicalProfile {
  person: PersonData;
  age: number;
  chronic: Array<{ key: ConditionKey; onsetDaysAgo: number }>;
  meds: Array<{ key: DrugKey; sinceDaysAgo: number; for: ConditionKey }>;
  allergies: Array<{ key: AllergenKey; onsetDaysAgo: number; recordedBy: 'hospital' | 'gp' }>;
  /** A hospital episode (admission or emergency visit), if any. */
  episode?: { key: ConditionKey; daysAgo: number; days: number; procedure?: keyof typeof PROCEDURES };
  /** Needs home care (frail elderly, heart failure, COPD, after a hip fracture). */
  homeCare: boolean;
  /** Sees a physiotherapist. */
  physio?: ConditionKey;
}

const CHRONIC_POOL: Array<{ key: ConditionKey; p: (age: number) => number }> = [
  { key: 'hypertension', p: (a) => (a > 60 ? 0.45 : a > 40 ? 0.25 : 0.05) },
  { key: 'hypercholesterolaemia', p: (a) => (a > 50 ? 0.3 : 0.08) },
  { key: 'diabetes2', p: (a) => (a > 60 ? 0.2 : a > 40 ? 0.1 : 0.02) },
  { key: 'asthma', p: () => 0.07 },
  { key: 'copd', p: (a) => (a > 60 ? 0.1 : 0.02) },
  { key: 'atrialFibrillation', p: (a) => (a > 70 ? 0.12 : 0.02) },
  { key: 'heartFailure', p: (a) => (a > 75 ? 0.1 : 0.01) },
  { key: 'hypothyroidism', p: () => 0.05 },
  { key: 'depression', p: () => 0.08 },
  { key: 'kneeOsteoarthritis', p: (a) => (a > 60 ? 0.2 : 0.03) },
  { key: 'lowBackPain', p: () => 0.08 },
  { key: 'reflux', p: () => 0.08 },
  { key: 'ckd', p: (a) => (a > 70 ? 0.12 : 0.01) },
  { key: 'migraine', p: (a) => (a < 55 ? 0.08 : 0.02) },
];

const EPISODES: Array<{ key: ConditionKey; procedure?: keyof typeof PROCEDURES; days: number }> = [
  { key: 'pneumonia', procedure: 'chestXray', days: 5 },
  { key: 'hipFracture', procedure: 'hipReplacement', days: 8 },
  { key: 'myocardialInfarction', procedure: 'pci', days: 4 },
  { key: 'appendicitis', procedure: 'appendectomy', days: 2 },
  { key: 'kidneyStone', procedure: 'ctScan', days: 1 },
  { key: 'kneeOsteoarthritis', procedure: 'kneeReplacement', days: 3 },
];

export function profileFor(person: PersonData, seed: string, reference: string): ClinicalProfile {
  const r = rng(seed, 'profile', person.bsn);
  const age = ageAt(person.birthDate, reference);
  const maxDays = Math.max(30, (age - 18) * 365);
  const chronic = CHRONIC_POOL.filter((c) => age >= CONDITIONS[c.key].minAge && r.chance(c.p(age))).map((c) => ({
    key: c.key,
    onsetDaysAgo: r.int(60, Math.min(maxDays, 25 * 365)),
  }));
  const eligible = EPISODES.filter((e) => age >= CONDITIONS[e.key].minAge);
  const episode = eligible.length > 0 && r.chance(0.35) ? { ...r.pick(eligible), daysAgo: r.int(20, 6 * 365) } : undefined;
  const meds: ClinicalProfile['meds'] = [];
  const takeDrug = (forKey: ConditionKey, count: number, sinceDaysAgo: number) => {
    for (const key of (TREATMENT[forKey] ?? []).slice(0, count)) {
      if (!meds.some((m) => m.key === key)) meds.push({ key, sinceDaysAgo, for: forKey });
    }
  };
  for (const c of chronic) takeDrug(c.key, r.int(1, 2), Math.max(14, c.onsetDaysAgo - r.int(0, 30)));
  if (episode?.key === 'myocardialInfarction') takeDrug('myocardialInfarction', 4, episode.daysAgo - 1);
  const allergies: ClinicalProfile['allergies'] = [];
  if (r.chance(0.25)) {
    const key = r.pick(Object.keys(ALLERGENS).filter((k) => k !== 'iodinatedContrast') as AllergenKey[]);
    allergies.push({ key, onsetDaysAgo: r.int(365, maxDays), recordedBy: 'gp' });
  }
  if (episode && r.chance(0.15)) {
    allergies.push({ key: r.pick(['iodinatedContrast', 'latex', 'penicillin'] as AllergenKey[]), onsetDaysAgo: episode.daysAgo, recordedBy: 'hospital' });
  }
  const has = (k: ConditionKey) => chronic.some((c) => c.key === k) || episode?.key === k;
  const homeCare = (age >= 80 && r.chance(0.6)) || has('heartFailure') || (has('copd') && age > 70) || (episode?.key === 'hipFracture');
  const physio = has('kneeOsteoarthritis') ? 'kneeOsteoarthritis' : has('lowBackPain') ? 'lowBackPain' : episode?.key === 'hipFracture' ? 'hipFracture' : undefined;
  return { person, age, chronic, meds, allergies, episode, homeCare, ...(physio ? { physio } : {}) };
}

/** Organisation kinds the simulator knows, by Vektis/Nictiz organisation-type code. */
export type HolderKind = 'hospital' | 'gp' | 'pharmacy' | 'homecare' | 'physio';

export function holderKind(orgType: string): HolderKind | undefined {
  return ({ V4: 'hospital', Z3: 'gp', A1: 'gp', J8: 'pharmacy', T2: 'homecare', X3: 'homecare', K9: 'physio' } as Record<string, HolderKind>)[orgType];
}

/** The resources a holder of this kind keeps about this person (empty: it does not know them). */
export function chartFor(kind: HolderKind, holder: Holder, profile: ClinicalProfile, seed: string, reference: string): Resource[] {
  const chart = new Chart(holder, profile.person, seed);
  const r = rng(seed, 'chart', holder.ura, profile.person.bsn);
  const at = (daysAgo: number, hour = 10) => daysBefore(reference, daysAgo, hour);
  const writers: Record<HolderKind, () => void> = {
    gp: () => gpChart(chart, profile, r, at),
    pharmacy: () => pharmacyChart(chart, profile, r, at),
    hospital: () => hospitalChart(chart, profile, r, at),
    homecare: () => homeCareChart(chart, profile, r, at),
    physio: () => physioChart(chart, profile, r, at),
  };
  const firstContact = Math.max(...profile.chronic.map((c) => c.onsetDaysAgo), profile.episode?.daysAgo ?? 0, 400);
  b.patient(chart, at(firstContact, 8));
  writers[kind]();
  return chart.resources;
}

type At = (daysAgo: number, hour?: number) => string;

function labValue(r: Rng, key: LabKey, abnormal: boolean): number {
  const def = LABS[key];
  const span = def.high - def.low;
  const v = abnormal ? def.high + span * (0.1 + r.next() * 0.4) : def.low + span * (0.15 + r.next() * 0.7);
  const f = 10 ** def.decimals;
  return Math.round(v * f) / f;
}

function gpChart(chart: Chart, p: ClinicalProfile, r: Rng, at: At): void {
  for (const c of p.chronic) {
    const def = CONDITIONS[c.key];
    b.condition(chart, def, at(c.onsetDaysAgo), def.chronic ? {} : { resolved: at(Math.max(1, c.onsetDaysAgo - 60)) });
    b.encounter(chart, 'consultation', at(c.onsetDaysAgo, 9), at(c.onsetDaysAgo, 9).replace('T09:00', 'T09:10'), { reason: def });
  }
  if (p.episode) b.condition(chart, CONDITIONS[p.episode.key], at(p.episode.daysAgo), { resolved: at(Math.max(1, p.episode.daysAgo - 30)) });
  for (const m of p.meds) {
    // Most meds are GP prescriptions; hospital-started ones the GP knows as a statement.
    if (m.for === 'myocardialInfarction') b.medicationStatement(chart, DRUGS[m.key], at(m.sinceDaysAgo), { note: 'Gestart door cardioloog' });
    else b.medicationRequest(chart, DRUGS[m.key], at(r.int(5, Math.min(m.sinceDaysAgo, 90))));
  }
  for (const a of p.allergies.filter((x) => x.recordedBy === 'gp')) b.allergy(chart, ALLERGENS[a.key], at(a.onsetDaysAgo), { criticality: ALLERGENS[a.key].category === 'food' ? 'high' : 'low' });
  const keys = new Set(p.chronic.map((c) => c.key));
  const labs: LabKey[] = [];
  if (keys.has('diabetes2')) labs.push('hba1c', 'glucose', 'egfr');
  if (keys.has('hypercholesterolaemia')) labs.push('cholesterol', 'ldl');
  if (keys.has('ckd')) labs.push('creatinine', 'egfr', 'potassium');
  if (keys.has('hypothyroidism')) labs.push('tsh');
  for (const key of new Set(labs)) {
    for (const daysAgo of [r.int(20, 120), r.int(200, 400)]) b.labResult(chart, LABS[key], labValue(r, key, r.chance(0.3)), at(daysAgo, 8));
  }
  if (keys.has('hypertension') || p.age > 50) {
    for (const daysAgo of [r.int(10, 90), r.int(150, 300)]) {
      const high = keys.has('hypertension') && r.chance(0.5);
      b.bloodPressure(chart, high ? r.int(140, 165) : r.int(118, 138), high ? r.int(88, 100) : r.int(70, 86), at(daysAgo, 11));
    }
    b.vital(chart, 'bodyWeight', r.int(55, 105), at(r.int(10, 90), 11));
  }
  if (p.age >= 60 || keys.has('diabetes2') || keys.has('copd') || keys.has('heartFailure')) {
    b.immunization(chart, VACCINES.influenza, at(r.int(200, 240), 14));
    if (p.age >= 70) b.immunization(chart, VACCINES.pneumococcal, at(r.int(300, 900), 14));
  }
}

function pharmacyChart(chart: Chart, p: ClinicalProfile, r: Rng, at: At): void {
  for (const m of p.meds) {
    const drug = DRUGS[m.key];
    const days = m.key === 'amoxicillin' ? 7 : 90;
    const last = r.int(3, 80);
    b.medicationDispense(chart, drug, at(last, 15), days);
    if (m.sinceDaysAgo > last + days) b.medicationDispense(chart, drug, at(last + days, 15), days);
  }
  // Pharmacies register drug hypersensitivities the GP passed on (contra-indication check).
  for (const a of p.allergies.filter((x) => x.recordedBy === 'gp' && ALLERGENS[x.key].category === 'medication')) {
    b.allergy(chart, ALLERGENS[a.key], at(a.onsetDaysAgo), { criticality: 'low' });
  }
}

function hospitalChart(chart: Chart, p: ClinicalProfile, r: Rng, at: At): void {
  const ep = p.episode;
  if (!ep) {
    // Outpatient follow-up of a chronic problem (or a check-up for someone local).
    const c = p.chronic[0];
    const daysAgo = r.int(30, 700);
    const enc = b.encounter(chart, 'consultation', at(daysAgo, 13), at(daysAgo, 13).replace('T13:00', 'T13:20'), c ? { reason: CONDITIONS[c.key] } : {});
    if (c) b.condition(chart, CONDITIONS[c.key], at(c.onsetDaysAgo), { encounter: b.refTo(enc) });
    b.labResult(chart, LABS.hemoglobin, labValue(r, 'hemoglobin', false), at(daysAgo, 9));
    b.labResult(chart, LABS.creatinine, labValue(r, 'creatinine', p.chronic.some((x) => x.key === 'ckd')), at(daysAgo, 9));
    return;
  }
  const def = CONDITIONS[ep.key];
  const start = at(ep.daysAgo, 14);
  const end = at(ep.daysAgo - ep.days, 11);
  const enc = b.encounter(chart, ep.days > 1 ? 'admission' : 'emergency', start, end, { reason: def });
  b.condition(chart, def, start, { resolved: end, encounter: b.refTo(enc), category: 'encounter-diagnosis' });
  if (ep.procedure) b.procedure(chart, PROCEDURES[ep.procedure], at(ep.daysAgo, 18), { encounter: b.refTo(enc), reason: def });
  b.labResult(chart, LABS.hemoglobin, labValue(r, 'hemoglobin', false), at(ep.daysAgo, 15));
  b.labResult(chart, LABS.crp, labValue(r, 'crp', ep.key === 'pneumonia' || ep.key === 'appendicitis'), at(ep.daysAgo, 15));
  b.labResult(chart, LABS.creatinine, labValue(r, 'creatinine', false), at(ep.daysAgo, 15));
  b.bloodPressure(chart, r.int(115, 160), r.int(65, 95), at(ep.daysAgo, 14));
  b.vital(chart, 'heartRate', r.int(60, 110), at(ep.daysAgo, 14));
  b.vital(chart, 'temperature', ep.key === 'pneumonia' ? 38.9 : 37.1, at(ep.daysAgo, 14));
  // Medication verification at admission: what the patient used at home.
  for (const m of p.meds.filter((x) => x.sinceDaysAgo > ep.daysAgo)) {
    b.medicationStatement(chart, DRUGS[m.key], at(m.sinceDaysAgo), { note: 'Medicatieverificatie bij opname' });
  }
  for (const a of p.allergies.filter((x) => x.recordedBy === 'hospital')) {
    b.allergy(chart, ALLERGENS[a.key], at(a.onsetDaysAgo, 16), { severity: 'severe', criticality: 'high' });
  }
  if (r.chance(0.05)) b.flag(chart, FLAGS.mrsaCarrier, start);
}

function homeCareChart(chart: Chart, p: ClinicalProfile, r: Rng, at: At): void {
  const since = p.episode?.key === 'hipFracture' ? Math.max(1, p.episode.daysAgo - p.episode.days) : r.int(60, 700);
  b.flag(chart, FLAGS.fallRisk, at(since, 10));
  if (p.age >= 85 && r.chance(0.4)) b.flag(chart, FLAGS.notForResuscitation, at(since, 10));
  for (let i = 0; i < 3; i++) {
    const d = Math.max(1, since - i * r.int(7, 30));
    b.encounter(chart, 'homeVisit', at(d, 8), at(d, 8).replace('T08:00', 'T08:45'));
    b.bloodPressure(chart, r.int(115, 160), r.int(65, 95), at(d, 8));
  }
  b.vital(chart, 'bodyWeight', r.int(50, 95), at(Math.max(1, since - 3), 8));
  if (p.meds.length > 2) b.procedure(chart, PROCEDURES.drugAdministration, at(Math.max(1, since - 1), 8), { text: 'Medicatie aanreiken en toedienen' });
  if (p.episode?.key === 'hipFracture') b.procedure(chart, PROCEDURES.woundCare, at(Math.max(1, since - 2), 9), { text: 'Wondverzorging heup' });
}

function physioChart(chart: Chart, p: ClinicalProfile, r: Rng, at: At): void {
  if (!p.physio) return;
  const def = CONDITIONS[p.physio];
  const start = r.int(30, 400);
  b.condition(chart, def, at(start), {});
  for (let i = 0; i < r.int(3, 6); i++) {
    const d = Math.max(1, start - i * 7);
    const enc = b.encounter(chart, 'consultation', at(d, 16), at(d, 16).replace('T16:00', 'T16:30'), { reason: def });
    b.procedure(chart, PROCEDURES.physiotherapy, at(d, 16), { encounter: b.refTo(enc), reason: def, text: 'Oefentherapie' });
  }
}
