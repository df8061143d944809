// Which foreign professionals the Dutch agreements let act through the NCPeH, as data: the
// eHDSI occupation codes (ISCO-08) mapped to the UZI role the Dutch holders' policies know, per
// cross-border service. A role not listed is refused; a listed role only for its services.

export type CrossBorderService = 'patient-summary' | 'eprescription';

export interface RoleMapping {
  /** ISCO-08 code the foreign assertion carries. */
  isco: string;
  label: string;
  /** UZI role code (http://fhir.nl/fhir/NamingSystem/uzi-rolcode) the Dutch side treats it as. */
  uziRole: string;
  services: CrossBorderService[];
}

export const CROSS_BORDER_ROLES: RoleMapping[] = [
  { isco: '221', label: 'Medical doctors', uziRole: '01.015', services: ['patient-summary'] },
  { isco: '2211', label: 'Generalist medical practitioners', uziRole: '01.015', services: ['patient-summary'] },
  { isco: '2212', label: 'Specialist medical practitioners', uziRole: '01.045', services: ['patient-summary'] },
  { isco: '2262', label: 'Pharmacists', uziRole: '17.000', services: ['eprescription'] },
];

/** The Dutch role for a foreign occupation and service, or undefined (refuse). */
export function mapForeignRole(isco: string, service: CrossBorderService, table: RoleMapping[] = CROSS_BORDER_ROLES): RoleMapping | undefined {
  return table.find((r) => r.isco === isco && r.services.includes(service));
}
