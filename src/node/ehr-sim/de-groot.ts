import type { Resource } from '@medplum/fhirtypes';
import { DE_GROOT, organizationByUra } from '../../sandbox/cast.ts';
import { ALLERGENS, CONDITIONS, DRUGS, LABS, PROCEDURES, VACCINES } from './catalogue.ts';
import * as b from './build.ts';
import { Chart } from './build.ts';
import { daysBefore } from './dates.ts';

// Mr De Groot's story (design §2), written out by hand so it never depends on the generator:
// - Ziekenhuis Leiden: a CT with iodinated contrast in 2019 for a kidney stone, which gave an
//   allergic reaction: the contrast allergy is recorded there, and only there.
// - Huisartsenpraktijk Kerkrade: his problem list (hypertension, hypercholesterolaemia, type 2
//   diabetes), prescriptions for atorvastatin, lisinopril and metformin, self-care paracetamol.
// - Apotheek Kerkrade: dispenses of atorvastatin and lisinopril (same ATC codes as at the GP,
//   so the node can merge them); metformin was prescribed recently and not yet collected.
// - Ziekenhuis Veluwe, Thuiszorg Limburg, Fysiotherapie Kerkrade: nothing about him.

export const DE_GROOT_HOLDERS = {
  leiden: '90000102',
  gp: '90000103',
  pharmacy: '90000104',
} as const;

function holder(ura: string) {
  const org = organizationByUra(ura);
  if (!org) throw new Error(`cast organisation ${ura} missing`);
  return { ura: org.ura, name: org.name };
}

export function deGrootChart(ura: string, seed: string, reference: string): Resource[] {
  const at = (daysAgo: number, hour = 10) => daysBefore(reference, daysAgo, hour);
  const person = { ...DE_GROOT };
  if (ura === DE_GROOT_HOLDERS.leiden) {
    const chart = new Chart(holder(ura), person, seed);
    // 2019-06-14 (relative to the 2025-06-01 reference date: 2179 days).
    const day = 2179;
    b.patient(chart, at(day, 8));
    const enc = b.encounter(chart, 'emergency', at(day, 9), at(day, 17), { reason: CONDITIONS.kidneyStone });
    b.condition(chart, CONDITIONS.kidneyStone, at(day, 9), { resolved: at(day - 21), encounter: b.refTo(enc), category: 'encounter-diagnosis' });
    b.procedure(chart, PROCEDURES.ctScan, at(day, 11), { text: 'CT abdomen met intraveneus jodiumhoudend contrast', encounter: b.refTo(enc), reason: CONDITIONS.kidneyStone });
    b.allergy(chart, ALLERGENS.iodinatedContrast, at(day, 11), {
      severity: 'severe',
      criticality: 'high',
      note: 'Urticaria en benauwdheid binnen 10 minuten na toediening van jodiumhoudend contrast bij CT abdomen. Behandeld met clemastine en prednisolon. Bij toekomstig contrastonderzoek premedicatie of alternatief.',
    });
    b.labResult(chart, LABS.creatinine, 84, at(day, 9));
    b.labResult(chart, LABS.crp, 6, at(day, 9));
    return chart.resources;
  }
  if (ura === DE_GROOT_HOLDERS.gp) {
    const chart = new Chart(holder(ura), person, seed);
    b.patient(chart, at(4000, 8));
    b.condition(chart, CONDITIONS.hypertension, at(3650));
    b.condition(chart, CONDITIONS.hypercholesterolaemia, at(3300));
    b.condition(chart, CONDITIONS.diabetes2, at(1900));
    b.condition(chart, CONDITIONS.kidneyStone, at(2180), { resolved: at(2158) });
    b.medicationRequest(chart, DRUGS.atorvastatin, at(60));
    b.medicationRequest(chart, DRUGS.lisinopril, at(60));
    b.medicationRequest(chart, DRUGS.metformin, at(12));
    b.medicationStatement(chart, DRUGS.paracetamol, at(400), { category: 'patientspecified', note: 'Zelfzorg, zo nodig bij hoofdpijn' });
    b.bloodPressure(chart, 148, 92, at(60, 11));
    b.bloodPressure(chart, 139, 88, at(12, 11));
    b.vital(chart, 'bodyWeight', 94, at(12, 11));
    b.vital(chart, 'bmi', 29.4, at(12, 11));
    b.labResult(chart, LABS.hba1c, 56, at(14, 8));
    b.labResult(chart, LABS.glucose, 8.1, at(14, 8));
    b.labResult(chart, LABS.ldl, 2.9, at(14, 8));
    b.labResult(chart, LABS.egfr, 78, at(14, 8));
    b.encounter(chart, 'consultation', at(12, 9), at(12, 9).replace('T09:00', 'T09:15'), { reason: CONDITIONS.diabetes2 });
    b.immunization(chart, VACCINES.influenza, at(225, 14));
    return chart.resources;
  }
  if (ura === DE_GROOT_HOLDERS.pharmacy) {
    const chart = new Chart(holder(ura), person, seed);
    b.patient(chart, at(3640, 8));
    for (const daysAgo of [148, 58]) {
      b.medicationDispense(chart, DRUGS.atorvastatin, at(daysAgo, 15), 90);
      b.medicationDispense(chart, DRUGS.lisinopril, at(daysAgo, 15), 90);
    }
    return chart.resources;
  }
  return [];
}
