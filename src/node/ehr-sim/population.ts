import type { Resource } from '@medplum/fhirtypes';
import { testBsn } from '../../kit/identifiers/bsn.ts';
import type { PersonData } from './build.ts';
import { DEFAULT_REFERENCE_DATE } from './dates.ts';
import { chartFor, type HolderKind, holderKind, profileFor } from './histories.ts';
import { rng } from './random.ts';

// Scale generator: any number of synthetic organisations and patients, streamed one chart
// (one patient at one holder) at a time, so a million-patient run never holds it all in memory.

export interface PopulationOrganization {
  ura: string;
  name: string;
  /** Vektis/Nictiz organisation-type code (V4, Z3, J8, T2, K9). */
  type: string;
}

export interface PopulationOptions {
  patients: number;
  /** A count (synthetic organisations are made) or an explicit list. */
  organizations: number | PopulationOrganization[];
  seed: string | number;
  /** Every patient at every organisation (benchmarks: "8 holders, 100 patients"). Default: a plausible few. */
  everywhere?: boolean;
  reference?: string;
  /** First BSN seed; patients use testBsn(bsnBase + 2·i) (step 2 keeps BSNs distinct). */
  bsnBase?: number;
}

export interface PopulationChart {
  ura: string;
  bsn: string;
  resources: Resource[];
}

const TYPE_CYCLE = ['Z3', 'J8', 'V4', 'Z3', 'J8', 'T2', 'K9', 'Z3'];
const TYPE_NAME: Record<string, string> = {
  V4: 'Ziekenhuis',
  Z3: 'Huisartsenpraktijk',
  J8: 'Apotheek',
  T2: 'Thuiszorg',
  K9: 'Fysiotherapie',
};
const PLACES = ['Zwolle', 'Utrecht', 'Groningen', 'Breda', 'Tilburg', 'Arnhem', 'Delft', 'Venlo', 'Emmen', 'Hoorn', 'Sneek', 'Goes'];
const GIVEN_F = ['Anna', 'Sanne', 'Fatima', 'Lotte', 'Emma', 'Noor', 'Julia', 'Sophie', 'Yara', 'Mila', 'Ingrid', 'Wilma'];
const GIVEN_M = ['Jan', 'Piet', 'Kees', 'Mohammed', 'Daan', 'Ahmet', 'Bram', 'Luuk', 'Sem', 'Henk', 'Gerrit', 'Youssef'];
const FAMILY: Array<[string | undefined, string]> = [
  [undefined, 'Jansen'], ['de', 'Boer'], [undefined, 'Mulder'], [undefined, 'Bos'], [undefined, 'Vos'], [undefined, 'Peeters'],
  ['el', 'Amrani'], [undefined, 'Yilmaz'], [undefined, 'Meijer'], [undefined, 'Kok'], ['van', 'Leeuwen'], ['van der', 'Berg'],
  [undefined, 'Dekker'], [undefined, 'Brouwer'], ['de', 'Wit'], [undefined, 'Smits'], [undefined, 'Hoekstra'], ['van', 'Dam'],
];

/** Synthetic organisations: URAs 8xxxxxxx so they never collide with the cast (9000xxxx). */
export function populationOrganizations(count: number, seed: string | number): PopulationOrganization[] {
  return Array.from({ length: count }, (_, i) => {
    const type = TYPE_CYCLE[i % TYPE_CYCLE.length];
    const place = rng(seed, 'org', i).pick(PLACES);
    return { ura: String(80_000_000 + i), name: `${TYPE_NAME[type]} ${place} ${i + 1}`, type };
  });
}

export function populationPerson(i: number, seed: string | number, reference = DEFAULT_REFERENCE_DATE, bsnBase = 5_000_000): PersonData {
  const r = rng(seed, 'person', i);
  const female = r.chance(0.5);
  const [prefix, family] = r.pick(FAMILY);
  const year = Number(reference.slice(0, 4)) - r.int(1, 95);
  const birthDate = `${year}-${String(r.int(1, 12)).padStart(2, '0')}-${String(r.int(1, 28)).padStart(2, '0')}`;
  return {
    bsn: testBsn(bsnBase + 2 * i),
    given: r.pick(female ? GIVEN_F : GIVEN_M),
    ...(prefix ? { prefix } : {}),
    family,
    birthDate,
    gender: female ? 'female' : 'male',
    city: r.pick(PLACES),
  };
}

/** Streams charts: for each patient, one PopulationChart per organisation that holds them. */
export function* generatePopulation(options: PopulationOptions): Generator<PopulationChart> {
  const seed = String(options.seed);
  const reference = options.reference ?? DEFAULT_REFERENCE_DATE;
  const orgs = typeof options.organizations === 'number' ? populationOrganizations(options.organizations, seed) : options.organizations;
  const byKind = new Map<HolderKind, PopulationOrganization[]>();
  for (const o of orgs) {
    const kind = holderKind(o.type);
    if (kind) byKind.set(kind, [...(byKind.get(kind) ?? []), o]);
  }
  for (let i = 0; i < options.patients; i++) {
    const person = populationPerson(i, seed, reference, options.bsnBase);
    const profile = profileFor(person, seed, reference);
    const r = rng(seed, 'holders', i);
    let holders: PopulationOrganization[];
    if (options.everywhere) {
      holders = orgs;
    } else {
      const pickOne = (kind: HolderKind) => {
        const list = byKind.get(kind);
        return list && list.length > 0 ? [r.pick(list)] : [];
      };
      holders = [
        ...pickOne('gp'),
        ...pickOne('pharmacy'),
        ...(profile.episode || r.chance(0.3) ? pickOne('hospital') : []),
        ...(profile.homeCare ? pickOne('homecare') : []),
        ...(profile.physio ? pickOne('physio') : []),
      ];
    }
    for (const org of holders) {
      const kind = holderKind(org.type);
      if (!kind) continue;
      yield { ura: org.ura, bsn: person.bsn, resources: chartFor(kind, org, profile, seed, reference) };
    }
  }
}
