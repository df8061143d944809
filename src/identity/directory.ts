import type { Professional } from './verklaring/issue.ts';

// Who can log in: the directory is given to the part by whoever composes it (the sandbox and
// `ldn serve … LDN_SETTING_DIRECTORY=cast` give the cast's, src/sandbox/people.ts).
// STUB: a real Dezi/DigiD has the national registers behind it; LDN has no such source.

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
