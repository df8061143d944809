// UZI role codes (rolcodes, system http://fhir.nl/fhir/NamingSystem/uzi-rolcode) used in the
// network, with their Dutch names, and organisation-type codes (Vektis / Nictiz).

export const UZI_ROLES: Record<string, string> = {
  '01.015': 'Huisarts',
  '01.016': 'Internist',
  '01.018': 'Cardioloog',
  '01.019': 'Neuroloog',
  '01.024': 'Anesthesioloog',
  '01.030': 'Radioloog',
  '01.045': 'Spoedeisende hulp arts',
  '01.050': 'Medisch specialist',
  '17.000': 'Apotheker',
  '17.060': 'Ziekenhuisapotheker',
  '30.000': 'Verpleegkundige',
  '30.015': 'Wijkverpleegkundige',
  '04.000': 'Fysiotherapeut',
  '81.000': 'Tandarts',
  '88.000': 'Doktersassistent',
};

export const ORGANIZATION_TYPES: Record<string, string> = {
  V4: 'Ziekenhuis',
  Z3: 'Huisartspraktijk',
  J8: 'Openbare apotheek',
  T2: 'Thuiszorg',
  X3: 'Verplegings- of verzorgingsinstelling',
  K9: 'Fysiotherapiepraktijk',
  A1: 'Apotheekhoudende huisarts',
  /** LDN's own code (not Vektis): the national contact point for cross-border care (src/ncpeh/). */
  NCP: 'Nationaal contactpunt eHealth (NCPeH)',
};

export function roleName(code: string): string | undefined {
  return UZI_ROLES[code];
}

export function isUra(value: string): boolean {
  return /^\d{8}$/.test(value);
}

export function isUziNumber(value: string): boolean {
  return /^\d{9}$/.test(value);
}

export function isAgb(value: string): boolean {
  return /^\d{8}$/.test(value);
}

/** UZI role code shape, e.g. "01.015" (two digits, dot, three digits). */
export function isUziRoleCode(value: string): boolean {
  return /^\d{2}\.\d{3}$/.test(value);
}
