import type { Resource } from '@medplum/fhirtypes';
import { generatePopulation, type PopulationOrganization, populationPerson } from '../../src/node/ehr-sim/population.ts';
import { type CastOrganization, type CastVendor, ORGANIZATIONS } from '../../src/sandbox/cast.ts';
import type { SandboxCast } from '../../src/sandbox/context.ts';
import { defaultAgreements } from '../../src/trust/agreements/default-agreements.ts';

// The overview benchmark's network: Ziekenhuis Veluwe from the real cast asks (its clinicians
// log in there), and N generated holder organisations each hold every generated patient.

export const REQUESTER_URA = '90000101';
const SEED = 'ldn-bench-overview-v1';
const PLACES = ['Zwolle', 'Utrecht', 'Groningen', 'Breda', 'Tilburg', 'Arnhem', 'Delft', 'Venlo'];
const TYPE_NAME: Record<string, string> = { V4: 'Ziekenhuis', Z3: 'Huisartsenpraktijk', J8: 'Apotheek', T2: 'Thuiszorg', A1: 'Apotheekhoudend huisarts' };

export interface BenchCast {
  cast: SandboxCast;
  holders: CastOrganization[];
  /** BSNs of the generated patients (every holder holds each of them). */
  patients: string[];
}

/** Holder types cycle through the acute-care exchange's holder types (hospital, GP, pharmacy, home care). */
function holderTypes(): string[] {
  const acute = defaultAgreements().exchanges.find((e) => e.code === 'acute-zorg');
  return (acute?.holderOrganizationTypes ?? ['V4', 'Z3', 'J8', 'T2']).filter((t) => t !== 'A1');
}

export function benchCast(options: { holders: number; patients: number; holdersPerNode?: number }): BenchCast {
  const perNode = Math.max(1, options.holdersPerNode ?? 1);
  const types = holderTypes();
  const holders: CastOrganization[] = Array.from({ length: options.holders }, (_, i) => {
    const type = types[i % types.length];
    const city = PLACES[i % PLACES.length];
    return {
      ura: String(80_000_000 + i),
      agb: String(7_000_000 + i).padStart(8, '0'),
      name: `${TYPE_NAME[type] ?? 'Zorgaanbieder'} ${city} ${i + 1}`,
      type,
      city,
      node: `holder${Math.floor(i / perNode) + 1}`,
    };
  });
  // A node serving several holders belongs to a vendor (the network admits it to act for them).
  const vendors: CastVendor[] = [];
  if (perNode > 1) {
    for (const node of new Set(holders.map((h) => h.node))) {
      const hosts = holders.filter((h) => h.node === node).map((h) => h.ura);
      if (hosts.length > 1) vendors.push({ kvk: String(87_000_000 + vendors.length), name: `Bench Vendor ${vendors.length + 1} B.V.`, hosts });
    }
  }
  const requester = ORGANIZATIONS.find((o) => o.ura === REQUESTER_URA)!;
  const population = holders.map((h): PopulationOrganization => ({ ura: h.ura, name: h.name, type: h.type }));

  // Charts are generated once per reference date (the sandbox asks per organisation).
  let cached: { reference: string; byUra: Map<string, Resource[]> } | undefined;
  const chartsFor = (reference: string) => {
    if (cached?.reference !== reference) {
      const byUra = new Map<string, Resource[]>();
      for (const c of generatePopulation({ patients: options.patients, organizations: population, seed: SEED, everywhere: true, reference })) {
        const list = byUra.get(c.ura) ?? [];
        list.push(...c.resources);
        byUra.set(c.ura, list);
      }
      cached = { reference, byUra };
    }
    return cached.byUra;
  };
  const patients = Array.from({ length: options.patients }, (_, i) => populationPerson(i, SEED).bsn);
  return {
    cast: {
      organizations: [requester, ...holders],
      vendors,
      // The requester's own EHR holds nothing about the generated patients.
      ehrData: (ura, reference) => (ura === REQUESTER_URA ? [] : (chartsFor(reference).get(ura) ?? [])),
    },
    holders,
    patients,
  };
}
