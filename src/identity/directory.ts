import { roleName } from '../kit/identifiers/roles.ts';
import { CITIZENS, CLINICIANS, organizationByUra } from '../sandbox/cast.ts';
import { ROLE_CODE_SOURCE_BIG } from './constants.ts';
import type { Professional } from './verklaring/issue.ts';

// Who can log in. In the sandbox that is the cast; a deployment supplies its own directory
// (STUB: a real Dezi/DigiD has the national registers behind it; LDN has no such source).

export interface ProfessionalDirectory {
  find(deziNumber: string): Promise<Professional | undefined>;
  list(): Promise<Professional[]>;
}

export interface CitizenRecord {
  bsn: string;
  name: string;
  birthDate?: string;
  city?: string;
}

export interface CitizenDirectory {
  find(bsn: string): Promise<CitizenRecord | undefined>;
  list(): Promise<CitizenRecord[]>;
}

function castProfessionals(): Professional[] {
  return CLINICIANS.map((c) => ({
    deziNumber: c.deziNumber,
    initials: c.initials,
    prefix: c.prefix,
    surname: c.surname,
    roleCode: c.roleCode,
    roleName: roleName(c.roleCode) ?? c.roleCode,
    roleCodeSource: ROLE_CODE_SOURCE_BIG,
    ura: c.ura,
    organizationName: organizationByUra(c.ura)?.name ?? c.ura,
  }));
}

export function castProfessionalDirectory(): ProfessionalDirectory {
  const all = castProfessionals();
  return {
    find: async (n) => all.find((p) => p.deziNumber === n),
    list: async () => all,
  };
}

export function castCitizenDirectory(): CitizenDirectory {
  const all = CITIZENS.map((c) => ({ bsn: c.bsn, name: [c.given, c.prefix, c.family].filter(Boolean).join(' '), birthDate: c.birthDate, city: c.city }));
  return {
    find: async (bsn) => all.find((c) => c.bsn === bsn),
    list: async () => all,
  };
}
