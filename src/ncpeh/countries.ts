// Country names the contact point shows (ISO 3166-1 alpha-2), in Dutch and English.
const NAMES: Record<string, { nl: string; en: string }> = {
  NL: { nl: 'Nederland', en: 'the Netherlands' },
  BE: { nl: 'België', en: 'Belgium' },
  DE: { nl: 'Duitsland', en: 'Germany' },
  FR: { nl: 'Frankrijk', en: 'France' },
  LU: { nl: 'Luxemburg', en: 'Luxembourg' },
};

export function countryName(code: string, lang: 'nl' | 'en'): string {
  return NAMES[code]?.[lang] ?? code;
}
