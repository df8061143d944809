import type { Resource } from '@medplum/fhirtypes';
import { type CastCitizen, CITIZENS, DE_GROOT, ORGANIZATIONS, organizationByUra } from '../../sandbox/cast.ts';
import { DEFAULT_REFERENCE_DATE } from './dates.ts';
import { deGrootChart } from './de-groot.ts';
import { deGrootLabHistory } from './de-groot-lab-history.ts';
import { imagingEhrResources } from './imaging.ts';
import { type ClinicalProfile, chartFor, type HolderKind, holderKind, profileFor } from './histories.ts';
import { rng } from './random.ts';

// The sandbox cast's EHR contents: which organisation knows which citizen, and what it holds.
// Geography drives it: the Kerkrade-area GP and pharmacy know the Limburg citizens, the home
// care and physiotherapy practices those who need them, each hospital its own city plus
// anyone who had an episode there.

export const CAST_SEED = 'ldn-sandbox-ehr-v1';

const LIMBURG = new Set(['Kerkrade', 'Heerlen', 'Maastricht']);
const VELUWE = '90000101';
const LEIDEN = '90000102';

function holdsCitizen(kind: HolderKind, ura: string, c: CastCitizen, p: ClinicalProfile, seed: string): boolean {
  const limburg = LIMBURG.has(c.city);
  switch (kind) {
    case 'gp':
    case 'pharmacy':
      return limburg;
    case 'homecare':
      return limburg && p.homeCare;
    case 'physio':
      return limburg && p.physio !== undefined;
    case 'hospital': {
      if (c.city === 'Leiden') return ura === LEIDEN;
      if (c.city === 'Apeldoorn') return ura === VELUWE;
      if (!p.episode) return false;
      return ura === (rng(seed, 'hospital', c.bsn).chance(0.5) ? LEIDEN : VELUWE);
    }
  }
}

/** The cast resources one organisation's EHR holds (empty for an unknown URA). */
export function ehrDataFor(ura: string, options: { seed?: string; reference?: string } = {}): Resource[] {
  const seed = options.seed ?? CAST_SEED;
  const reference = options.reference ?? DEFAULT_REFERENCE_DATE;
  const org = organizationByUra(ura);
  const kind = org && holderKind(org.type);
  if (!org || !kind) return [];
  const out: Resource[] = [];
  for (const citizen of CITIZENS) {
    if (citizen.bsn === DE_GROOT.bsn) {
      const chart = deGrootChart(ura, seed, reference);
      out.push(...chart, ...deGrootLabHistory(ura, seed, reference), ...imagingEhrResources(ura, seed, reference, { withPatient: chart.length === 0 }));
      continue;
    }
    const profile = profileFor(citizen, seed, reference);
    if (holdsCitizen(kind, ura, citizen, profile, seed)) out.push(...chartFor(kind, { ura, name: org.name }, profile, seed, reference));
  }
  return out;
}

/** All cast organisations' EHR contents, keyed by URA. */
export function castEhrData(options: { seed?: string; reference?: string } = {}): Map<string, Resource[]> {
  return new Map(ORGANIZATIONS.map((o) => [o.ura, ehrDataFor(o.ura, options)]));
}
