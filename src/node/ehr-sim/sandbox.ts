import type { StoreOptions } from '../../kit/store/open.ts';
import type { Store } from '../../kit/store/store.ts';
import { ORGANIZATIONS } from '../../sandbox/cast.ts';
import { ehrDataFor } from './cast-data.ts';
import { openEhrStore, seedEhr } from './store.ts';

/**
 * Opens one store per cast organisation (schema ehr_<ura>) and seeds it with the cast data
 * when it is empty. Returns the map ehrSimulatorPlugin takes.
 */
export async function openCastEhrStores(options: Omit<StoreOptions, 'schema'> & { seed?: string } = {}): Promise<Map<string, Store>> {
  const stores = new Map<string, Store>();
  try {
    for (const org of ORGANIZATIONS) {
      const store = await openEhrStore(org.ura, options);
      stores.set(org.ura, store);
      const [{ n }] = await store.query<{ n: string }>('SELECT count(*) AS n FROM ehr_resources');
      if (Number(n) === 0) await seedEhr(store, org.ura, ehrDataFor(org.ura, { seed: options.seed }));
    }
  } catch (err) {
    for (const s of stores.values()) await s.close().catch(() => {});
    throw err;
  }
  return stores;
}
