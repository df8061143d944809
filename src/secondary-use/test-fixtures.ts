import { randomBytes } from 'node:crypto';
import type { DeliveredFile } from './workspace.ts';

// NDJSON as a holder delivers it under the contract (research pseudonyms, no identifiers, dates to
// the year), from a small population that does have BSNs, names and birth dates: the tests check
// that none of those reach a workspace.

export const TIA = '266257000';

/** The sandbox story's application: TIA patients on a statin, adults. */
export const TIA_STATIN_APPLICATION = {
  purpose: 'Secundaire preventie na TIA: statinegebruik per leeftijdsgroep',
  legalBasis: 'EHDS art. 53 lid 1 onder e (wetenschappelijk onderzoek)',
  categories: ['Patient', 'Condition', 'MedicationUse'],
  cohort: { conditions: ['266257000'], medications: ['C10AA'], ageMin: 18 },
  types: ['Patient', 'Condition', 'MedicationStatement'],
  datePrecision: 'year',
  periodStart: '2026-01-01',
  periodEnd: '2030-01-01',
};

export const ATORVASTATIN = 'C10AA05';

export interface FixturePerson {
  bsn: string;
  name: string;
  birthDate: string;
  gender: 'male' | 'female';
  tia: boolean;
  statin: boolean;
}

/** A population with BSN-like numbers that pass the 11-test and exact birth dates. */
export function fixturePopulation(count: number, seed = 1): FixturePerson[] {
  const out: FixturePerson[] = [];
  for (let i = 0; i < count; i++) {
    const k = (i * 7919 + seed * 104729) % 100_000;
    out.push({
      bsn: bsnFrom(100_000 + k),
      name: `Jansen-${k}`,
      birthDate: `${1930 + (k % 70)}-${String(1 + (k % 12)).padStart(2, '0')}-${String(1 + (k % 28)).padStart(2, '0')}`,
      gender: k % 2 ? 'male' : 'female',
      tia: k % 3 !== 0,
      statin: k % 4 !== 0,
    });
  }
  return out;
}

function bsnFrom(n: number): string {
  for (let tail = 0; ; tail++) {
    const digits = `${String(n).padStart(6, '0')}${String(tail).padStart(3, '0')}`.slice(0, 9);
    let sum = 0;
    for (let i = 0; i < 8; i++) sum += (9 - i) * Number(digits[i]);
    if ((sum - Number(digits[8])) % 11 === 0) return digits;
  }
}

/** The files one holder delivers for a permit: de-identified as the contract says. */
export function deliveredFiles(holder: string, people: readonly FixturePerson[]): DeliveredFile[] {
  const patients: string[] = [];
  const conditions: string[] = [];
  const medications: string[] = [];
  for (const p of people) {
    const id = randomBytes(16).toString('base64url');
    patients.push(JSON.stringify({ resourceType: 'Patient', id, gender: p.gender, birthDate: p.birthDate.slice(0, 4) }));
    if (p.tia) {
      conditions.push(JSON.stringify({
        resourceType: 'Condition', id: randomBytes(8).toString('hex'), subject: { reference: `Patient/${id}` },
        code: { coding: [{ system: 'http://snomed.info/sct', code: TIA, display: 'TIA' }] }, onsetDateTime: '2025',
      }));
    }
    if (p.statin) {
      const coding = [{ system: 'http://www.whocc.no/atc', code: ATORVASTATIN, display: 'atorvastatine' }];
      // Both ways a holder names the drug: a code on the statement, or a contained Medication.
      const drug = p.bsn.endsWith('1')
        ? { contained: [{ resourceType: 'Medication', id: 'm', code: { coding } }], medicationReference: { reference: '#m' } }
        : { medicationCodeableConcept: { coding } };
      medications.push(JSON.stringify({
        resourceType: 'MedicationStatement', id: randomBytes(8).toString('hex'), status: 'active', subject: { reference: `Patient/${id}` }, ...drug, effectiveDateTime: '2025',
      }));
    }
  }
  return [
    { holder, type: 'Patient', ndjson: `${patients.join('\n')}\n` },
    { holder, type: 'Condition', ndjson: `${conditions.join('\n')}\n` },
    { holder, type: 'MedicationStatement', ndjson: `${medications.join('\n')}\n` },
  ];
}

/** What a holder with a de-identification bug would send: the person as the EHR knows them. */
export function leakyFile(holder: string, p: FixturePerson): DeliveredFile {
  return {
    holder,
    type: 'Patient',
    ndjson: `${JSON.stringify({
      resourceType: 'Patient', id: 'x1', identifier: [{ system: 'http://fhir.nl/fhir/NamingSystem/bsn', value: p.bsn }],
      name: [{ family: p.name }], gender: p.gender, birthDate: p.birthDate,
    })}\n`,
  };
}
