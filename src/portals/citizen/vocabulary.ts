import type { Lang } from '../ui/i18n.ts';

// Plain-language names for the data categories and kinds of provider a citizen chooses from.
// Only the categories a citizen recognises are offered; others show their code.

export const CATEGORY_NAMES: Record<string, { nl: string; en: string }> = {
  MedicationUse: { nl: 'medicijnen die je gebruikt', en: 'medicines you use' },
  MedicationRequest: { nl: 'voorschriften van medicijnen', en: 'prescriptions' },
  AllergyIntolerance: { nl: 'allergieën', en: 'allergies' },
  Alert: { nl: 'waarschuwingen', en: 'alerts' },
  Condition: { nl: 'problemen en diagnoses', en: 'problems and diagnoses' },
  ObservationLaboratory: { nl: 'laboratoriumuitslagen', en: 'laboratory results' },
  ObservationVitalSigns: { nl: 'metingen zoals bloeddruk en gewicht', en: 'measurements such as blood pressure and weight' },
  Procedure: { nl: 'behandelingen en operaties', en: 'treatments and operations' },
  Encounter: { nl: 'afspraken en opnames', en: 'appointments and admissions' },
  Document: { nl: 'brieven en documenten', en: 'letters and documents' },
  Imaging: { nl: 'beelden zoals röntgenfoto’s', en: 'images such as X-rays' },
};

export const PROVIDER_KIND_NAMES: Record<string, { nl: string; en: string }> = {
  V4: { nl: 'ziekenhuizen', en: 'hospitals' },
  Z3: { nl: 'huisartsen', en: 'GP practices' },
  J8: { nl: 'apotheken', en: 'pharmacies' },
  T2: { nl: 'thuiszorgorganisaties', en: 'home-care organisations' },
  X3: { nl: 'verpleeg- en verzorgingshuizen', en: 'nursing and care homes' },
  K9: { nl: 'fysiotherapeuten', en: 'physiotherapy practices' },
  A1: { nl: 'apotheekhoudende huisartsen', en: 'dispensing GPs' },
  // Cross-border care: a 'deny' for this kind is "do not share with care providers abroad" (src/ncpeh/).
  NCP: { nl: 'zorgverleners in het buitenland (via het NCPeH)', en: 'care providers abroad (through the NCPeH)' },
};

export const categoryName = (code: string, lang: Lang) => CATEGORY_NAMES[code]?.[lang] ?? code;
export const providerKindName = (code: string, lang: Lang) => PROVIDER_KIND_NAMES[code]?.[lang] ?? code;
