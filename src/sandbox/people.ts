import type { CitizenDirectory, ProfessionalDirectory } from '../identity/directory.ts';
import { ROLE_CODE_SOURCE_BIG } from '../identity/constants.ts';
import { roleName } from '../kit/identifiers/roles.ts';
import { CITIZENS, CLINICIANS, organizationByUra } from './cast.ts';

// The cast as the identity providers' directories of who may log in (sandbox and demonstration
// only: `ldn serve identity` uses them with LDN_SETTING_DIRECTORY=cast).

export function castProfessionalDirectory(): ProfessionalDirectory {
  const all = CLINICIANS.map((c) => ({
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

/** The cast's directory when the settings ask for it (`directory=cast`); else none (the part refuses to start). */
export function castDirectoryIfAsked<D>(settings: Record<string, string | undefined>, directory: () => D): D | undefined {
  return settings.directory === 'cast' ? directory() : undefined;
}
