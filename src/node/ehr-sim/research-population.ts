import type { Condition, MedicationStatement, Patient } from '@medplum/fhirtypes';
import * as b from './build.ts';
import { Chart, type PersonData } from './build.ts';
import { type ConditionDef, DRUGS } from './catalogue.ts';
import { ageAt, DEFAULT_REFERENCE_DATE, daysBefore } from './dates.ts';
import { generatePopulation, type PopulationChart, type PopulationOptions } from './population.ts';
import { rng, stableId } from './random.ts';

// A sandbox population for secondary use (issue 22): the scale generator's patients, plus, on a
// stream of its own (so every other population stays byte-identical), a TIA for some patients of
// 45 and over, most of them on a statin afterwards, recorded by their GP. Deterministic from the seed.

export const TIA: ConditionDef = { code: '266257000', display: 'Transient ischemic attack', text: 'TIA', chronic: false, minAge: 45 };
/** Share of patients aged 45+ who had a TIA, and of those who take a statin since. */
const TIA_RATE = 0.08;
const STATIN_RATE = 0.75;

export interface ResearchPopulationOptions extends PopulationOptions {}

/** Whether this person had a TIA (and a statin since), decided on its own stream. */
export function tiaOf(bsn: string, birthDate: string, seed: string, reference: string): { daysAgo: number; statin: 'atorvastatin' | 'simvastatin' | null } | null {
  const r = rng(seed, 'research-tia', bsn);
  if (ageAt(birthDate, reference) < TIA.minAge || !r.chance(TIA_RATE)) return null;
  const daysAgo = r.int(30, 5 * 365);
  return { daysAgo, statin: r.chance(STATIN_RATE) ? r.pick(['atorvastatin', 'simvastatin'] as const) : null };
}

export function* generateResearchPopulation(options: ResearchPopulationOptions): Generator<PopulationChart> {
  const seed = String(options.seed);
  const reference = options.reference ?? DEFAULT_REFERENCE_DATE;
  let lastBsn: string | undefined;
  for (const chart of generatePopulation(options)) {
    const patient = chart.resources.find((r): r is Patient => r.resourceType === 'Patient');
    // The first holder of the patient records it (a GP comes first in the scale generator).
    const first = chart.bsn !== lastBsn;
    lastBsn = chart.bsn;
    const tia = first && patient?.id && patient.birthDate ? tiaOf(chart.bsn, patient.birthDate, seed, reference) : null;
    if (tia && patient?.id) {
      const person: PersonData = { bsn: chart.bsn, given: '', family: '', birthDate: patient.birthDate ?? '', gender: 'other' };
      const c = new Chart({ ura: chart.ura, name: chart.ura }, person, seed);
      const at = (days: number) => daysBefore(reference, days, 10);
      const renamed = <T extends Condition | MedicationStatement>(r: T, kind: string): T => {
        const id = stableId(kind, seed, chart.ura, person.bsn);
        return { ...r, id, identifier: [c.identifier(r.resourceType, id)], subject: { reference: `Patient/${patient.id}` } };
      };
      const extra: Array<Condition | MedicationStatement> = [renamed(b.condition(c, TIA, at(tia.daysAgo), { resolved: at(Math.max(1, tia.daysAgo - 1)) }), 'tia')];
      if (tia.statin) extra.push(renamed(b.medicationStatement(c, DRUGS[tia.statin], at(Math.max(1, tia.daysAgo - 1)), { note: 'Gestart na TIA' }), 'tia-statin'));
      yield { ...chart, resources: [...chart.resources, ...extra] };
    } else {
      yield chart;
    }
  }
}
