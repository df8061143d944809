// The sandbox cast (design §6): fictional organisations, clinicians, citizens and an operator.
// URAs, AGBs and Dezi numbers are made up; BSNs are valid (11-test) test numbers.
import { DEFAULT_OPERATOR_URA } from '../kit/common-settings.ts';
import { testBsn } from '../kit/identifiers/bsn.ts';
import type { OrganizationToPublish } from '../directory/publish-cast.ts';

/** An organisation of the cast: what the directory publishes of it (type: the Vektis / Nictiz code; node: the node that serves it). */
export type CastOrganization = OrganizationToPublish;

export interface CastVendor {
  kvk: string;
  name: string;
  hosts: string[];
}

export interface CastClinician {
  deziNumber: string;
  initials: string;
  prefix?: string;
  surname: string;
  roleCode: string;
  ura: string;
}

export interface CastCitizen {
  bsn: string;
  given: string;
  prefix?: string;
  family: string;
  birthDate: string;
  gender: 'male' | 'female' | 'other';
  city: string;
}

export const ORGANIZATIONS: CastOrganization[] = [
  { ura: '90000101', agb: '06010101', name: 'Ziekenhuis Veluwe', type: 'V4', city: 'Apeldoorn', node: 'veluwe' },
  { ura: '90000102', agb: '06010102', name: 'Ziekenhuis Leiden', type: 'V4', city: 'Leiden', node: 'leiden' },
  { ura: '90000103', agb: '01010103', name: 'Huisartsenpraktijk Kerkrade', type: 'Z3', city: 'Kerkrade', node: 'zuid' },
  { ura: '90000104', agb: '02010104', name: 'Apotheek Kerkrade', type: 'J8', city: 'Kerkrade', node: 'zuid' },
  { ura: '90000105', agb: '03010105', name: 'Thuiszorg Limburg', type: 'T2', city: 'Heerlen', node: 'zuid' },
  { ura: '90000106', agb: '04010106', name: 'Fysiotherapie Kerkrade', type: 'K9', city: 'Kerkrade', node: 'zuid' },
  // The national contact point for cross-border care (src/ncpeh/): a requester for foreign professionals, holds nothing.
  { ura: '90000190', agb: '00000190', name: 'NCPeH Nederland', type: 'NCP', city: 'Den Haag', node: 'ncpeh' },
];

/** One vendor hosts the four Kerkrade-area organisations on one node ("zuid"). */
export const VENDORS: CastVendor[] = [
  { kvk: '12345678', name: 'Zorgsoft Zuid B.V.', hosts: ['90000103', '90000104', '90000105', '90000106'] },
];

export const CLINICIANS: CastClinician[] = [
  { deziNumber: '900001011', initials: 'A.', surname: 'Bakker', roleCode: '01.045', ura: '90000101' },
  { deziNumber: '900001012', initials: 'M.', prefix: 'van', surname: 'Dijk', roleCode: '01.019', ura: '90000101' },
  { deziNumber: '900001013', initials: 'S.', surname: 'Visser', roleCode: '30.000', ura: '90000101' },
  { deziNumber: '900001014', initials: 'P.', surname: 'Smit', roleCode: '88.000', ura: '90000101' },
  { deziNumber: '900001021', initials: 'L.', prefix: 'de', surname: 'Vries', roleCode: '01.030', ura: '90000102' },
  { deziNumber: '900001031', initials: 'J.', surname: 'Hendriks', roleCode: '01.015', ura: '90000103' },
  { deziNumber: '900001041', initials: 'K.', surname: 'Peters', roleCode: '17.000', ura: '90000104' },
  { deziNumber: '900001051', initials: 'E.', surname: 'Janssen', roleCode: '30.015', ura: '90000105' },
  { deziNumber: '900001061', initials: 'R.', surname: 'Willems', roleCode: '04.000', ura: '90000106' },
];

const GIVEN = ['Jan', 'Anna', 'Piet', 'Sanne', 'Kees', 'Fatima', 'Mohammed', 'Lotte', 'Daan', 'Emma', 'Ahmet', 'Noor'];
const FAMILY = ['Jansen', 'de Boer', 'Mulder', 'Bos', 'Vos', 'Peeters', 'El Amrani', 'Yilmaz', 'Meijer', 'Kok'];
const CITIES = ['Kerkrade', 'Leiden', 'Apeldoorn', 'Heerlen', 'Maastricht'];

function splitFamily(name: string): { prefix?: string; family: string } {
  const m = /^(de|van|van der|el)\s+(.*)$/i.exec(name);
  return m ? { prefix: m[1], family: m[2] } : { family: name };
}

/** Mr De Groot first (the acceptance story), then 39 more with deterministic names. */
export const CITIZENS: CastCitizen[] = [
  {
    bsn: testBsn(1001),
    given: 'Hendrik',
    prefix: 'de',
    family: 'Groot',
    birthDate: '1974-03-12',
    gender: 'male',
    city: 'Kerkrade',
  },
  ...Array.from({ length: 39 }, (_, i): CastCitizen => {
    const fam = splitFamily(FAMILY[i % FAMILY.length]);
    return {
      bsn: testBsn(2000 + i * 7),
      given: GIVEN[i % GIVEN.length],
      ...fam,
      birthDate: `${1940 + ((i * 7) % 70)}-${String((i % 12) + 1).padStart(2, '0')}-${String((i % 27) + 1).padStart(2, '0')}`,
      gender: i % 2 === 0 ? 'female' : 'male',
      city: CITIES[i % CITIES.length],
    };
  }),
];

export const DE_GROOT = CITIZENS[0];

export const OPERATOR = { name: 'Netwerkbeheer LDN', ura: DEFAULT_OPERATOR_URA, kvk: '00000001' };

export function organizationByUra(ura: string): CastOrganization | undefined {
  return ORGANIZATIONS.find((o) => o.ura === ura);
}

/** The cast as the trust register admits it (the sandbox seed and tests). */
export const CAST_NETWORK = { organizations: ORGANIZATIONS, vendors: VENDORS, operator: OPERATOR };
