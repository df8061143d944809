import type { Store } from '../kit/store/store.ts';
import { consentResource, type ParsedConsent } from './fhir.ts';
import { ConsentRegistry, type StoredConsent } from './registry.ts';

// Records a given set of consent choices once per citizen (the sandbox's are in
// src/sandbox/consent-choices.ts): how a registry is filled before anyone can log in to it.

/** Records the choices once (no-op for a citizen who already has choices). */
export async function seedConsentChoices(store: Store, choices: readonly ParsedConsent[]): Promise<StoredConsent[]> {
  const registry = new ConsentRegistry(store);
  const out: StoredConsent[] = [];
  const byCitizen = new Map<string, ParsedConsent[]>();
  for (const c of choices) byCitizen.set(c.bsn, [...(byCitizen.get(c.bsn) ?? []), c]);
  for (const [bsn, choices] of byCitizen) {
    if ((await registry.recordsOf(bsn)).length > 0) continue;
    for (const choice of choices) out.push(await registry.create(consentResource(choice), { kind: 'system' }));
  }
  return out;
}
