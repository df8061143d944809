import type { CitizenDirectory, CitizenRecord, ProfessionalDirectory } from '../identity/directory.ts';
import { ROLE_CODE_SOURCE_BIG } from '../identity/constants.ts';
import { roleName } from '../kit/identifiers/roles.ts';
import { CITIZENS, CLINICIANS, organizationByUra } from './cast.ts';
import { RESEARCH_ORGANISATIONS, RESEARCHERS } from './secondary-use.ts';

// The cast as the identity providers' directories of who may log in (sandbox and demonstration
// only: `ldn serve identity` uses them with LDN_SETTING_DIRECTORY=cast).

export function castProfessionalDirectory(): ProfessionalDirectory {
  // The university's researcher logs in like a clinician, bound to her research organisation.
  const orgName = (ura: string) => organizationByUra(ura)?.name ?? RESEARCH_ORGANISATIONS.find((o) => o.ura === ura)?.name ?? ura;
  const all = [...CLINICIANS, ...RESEARCHERS].map((c) => ({
    deziNumber: c.deziNumber,
    initials: c.initials,
    prefix: c.prefix,
    surname: c.surname,
    roleCode: c.roleCode,
    roleName: roleName(c.roleCode) ?? c.roleCode,
    roleCodeSource: ROLE_CODE_SOURCE_BIG,
    ura: c.ura,
    organizationName: orgName(c.ura),
  }));
  return {
    find: async (n) => all.find((p) => p.deziNumber === n),
    list: async () => all,
  };
}

/** The cast's citizens, and any others the sandbox adds (the research population's, so one can see her access log). */
export function castCitizenDirectory(extra: readonly CitizenRecord[] = []): CitizenDirectory {
  const all = [...CITIZENS.map((c) => ({ bsn: c.bsn, name: [c.given, c.prefix, c.family].filter(Boolean).join(' '), birthDate: c.birthDate, city: c.city })), ...extra];
  return {
    find: async (bsn) => all.find((c) => c.bsn === bsn),
    list: async () => all,
  };
}

/** The cast's directory when the settings ask for it (`directory=cast`); else none (the part refuses to start). */
export function castDirectoryIfAsked<D>(settings: Record<string, string | undefined>, directory: () => D): D | undefined {
  return settings.directory === 'cast' ? directory() : undefined;
}
