import type { Store } from '../kit/store/store.ts';
import { CITIZENS, DE_GROOT } from '../sandbox/cast.ts';
import { consentResource, emptyScope, type ParsedConsent } from './fhir.ts';
import { ConsentRegistry, type StoredConsent } from './registry.ts';

// The sandbox's consents, so the acceptance story plays out: De Groot has consented to
// availability of his data for treatment (the emergency physician at Ziekenhuis Veluwe may see it
// in an opt-in network); a few other citizens show the other cases (an EHDS opt-out objection,
// a consent for hospitals only, an objection for one data category).

export function sandboxChoices(): ParsedConsent[] {
  const base = (bsn: string): ParsedConsent => ({ ...emptyScope(), bsn, status: 'active', provision: 'permit' });
  return [
    base(DE_GROOT.bsn),
    { ...base(CITIZENS[1].bsn), provision: 'deny' },
    { ...base(CITIZENS[2].bsn), requesterTypes: ['V4'] },
    base(CITIZENS[3].bsn),
    { ...base(CITIZENS[3].bsn), provision: 'deny', dataCategories: ['MedicationUse'] },
  ];
}

/** Records the sandbox choices once (no-op when the citizen already has choices). */
export async function seedSandboxConsents(store: Store): Promise<StoredConsent[]> {
  const registry = new ConsentRegistry(store);
  const out: StoredConsent[] = [];
  const byCitizen = new Map<string, ParsedConsent[]>();
  for (const c of sandboxChoices()) byCitizen.set(c.bsn, [...(byCitizen.get(c.bsn) ?? []), c]);
  for (const [bsn, choices] of byCitizen) {
    if ((await registry.recordsOf(bsn)).length > 0) continue;
    for (const choice of choices) out.push(await registry.create(consentResource(choice), { kind: 'system' }));
  }
  return out;
}
