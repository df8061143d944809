import { emptyScope, type ParsedConsent } from '../consent/fhir.ts';
import { CITIZENS, DE_GROOT } from './cast.ts';

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
