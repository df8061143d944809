import { createHash } from 'node:crypto';
import type { Bundle, BundleEntry, CodeableConcept, Composition, CompositionSection, Resource } from '@medplum/fhirtypes';
import { INSZ_SYSTEM, type RegisteredPerson } from './national-register.ts';

// The second country's own patients, as the sandbox plays Belgium: two Belgian citizens in its
// national register and the patient summary Belgium's national infrastructure holds for each, as
// Belgium would send it abroad (an IPS document): coded in the MyHealth@EU master value sets where
// Belgium has a mapping, always with Belgium's own code (CNK for medicines, the Belgian
// interface terminology for problems) and Belgium's own texts, in French or Belgian Dutch. Some
// items are left for the receiving side to find untranslatable, and sections are empty for
// different reasons (refused, nothing known), because a viewer must tell these apart.

const SCT = 'http://snomed.info/sct';
const ATC = 'http://www.whocc.no/atc';
const CNK = 'https://www.ehealth.fgov.be/standards/fhir/NamingSystem/cnk';
const IBUI = 'https://www.ehealth.fgov.be/standards/fhir/CodeSystem/ibui';
const LOINC = 'http://loinc.org';
const EMPTY_REASON = 'http://terminology.hl7.org/CodeSystem/list-empty-reason';

export interface BelgianPatient extends RegisteredPerson {
  gender: 'male' | 'female';
  /** The language Belgium's texts for this patient are in. */
  language: 'fr' | 'nl-BE';
  summary: {
    problems: Array<{ text: string; codes: Array<[string, string, string]> }>;
    medications: Array<{ text: string; codes: Array<[string, string, string]> }>;
    allergies: Array<{ text: string; codes: Array<[string, string, string]>; reaction?: [string, string, string] }> | 'nilknown';
    /** Absent: Belgium sends no such section; 'withheld': the section says Belgium refused it. */
    immunizations?: 'withheld';
  };
}

/** Mme Lambert (French-speaking, Brussels) and Mr Janssens (Dutch-speaking, Antwerp). */
export const BELGIAN_PATIENTS: readonly BelgianPatient[] = [
  {
    insz: '68041200227',
    family: 'Lambert',
    given: ['Camille', 'Marie'],
    birthDate: '1968-04-12',
    gender: 'female',
    language: 'fr',
    summary: {
      problems: [
        { text: 'Diabète sucré de type 2', codes: [[SCT, '44054006', 'Diabetes mellitus type 2'], [IBUI, '10071385', 'diabète de type 2']] },
        { text: 'Hypertension artérielle', codes: [[SCT, '38341003', 'Hypertensive disorder, systemic arterial'], [IBUI, '10019011', 'hypertension artérielle']] },
        // No row for it in the Dutch tables: the viewer must show it untranslated, in French.
        { text: 'Syndrome du canal carpien droit', codes: [[IBUI, '10007372', 'syndrome du canal carpien']] },
      ],
      medications: [
        { text: 'Glucophage 850 mg, 1 comprimé 2x/jour', codes: [[ATC, 'A10BA02', 'metformin'], [CNK, '1563428', 'Glucophage 850 mg comprimés']] },
        // Only Belgium's product code: the CNK table gives the substance.
        { text: 'Dafalgan 1 g si douleur, max 3x/jour', codes: [[CNK, '0026781', 'Dafalgan 1 g comprimés effervescents']] },
      ],
      allergies: [{ text: 'Allergie à la pénicilline', codes: [[SCT, '764146007', 'Penicillin']], reaction: [SCT, '126485001', 'Urticaire'] }],
      immunizations: 'withheld',
    },
  },
  {
    insz: '01092311386',
    family: 'Janssens',
    given: ['Lucas'],
    birthDate: '2001-09-23',
    gender: 'male',
    language: 'nl-BE',
    summary: {
      problems: [{ text: 'Astma', codes: [[SCT, '195967001', 'Asthma'], [IBUI, '10003553', 'astma']] }],
      medications: [{ text: 'Ventolin 100 µg/dosis, 2 pufjes bij kortademigheid', codes: [[ATC, 'R03AC02', 'salbutamol'], [CNK, '0713289', 'Ventolin 100 µg inhalator']] }],
      allergies: 'nilknown',
    },
  },
];

const concept = (text: string, codes: Array<[string, string, string]>): CodeableConcept => ({
  coding: codes.map(([system, code, display]) => ({ system, code, display })),
  text,
});

/** The patient's summary as Belgium sends it abroad (an IPS document), dated `now`. */
export function belgianSummary(p: BelgianPatient, now = new Date()): Bundle {
  const entries: BundleEntry[] = [];
  const add = (id: string, resource: Resource) => {
    const fullUrl = `urn:uuid:${id}`;
    entries.push({ fullUrl, resource: { ...resource, id } as Resource });
    return { reference: fullUrl };
  };
  // Stable ids: the same patient's document names its items the same way every time.
  const seq = (n: number) => createHash('sha256').update(`${p.insz}/${n}`).digest('hex').slice(0, 32).replace(/^(.{8})(.{4})(.{4})(.{4})/, '$1-$2-$3-$4-');
  const subject = add(seq(1), {
    resourceType: 'Patient',
    identifier: [{ system: INSZ_SYSTEM, value: p.insz }],
    name: [{ family: p.family, given: p.given }],
    gender: p.gender,
    birthDate: p.birthDate,
    address: [{ country: 'BE' }],
  });
  const author = add(seq(2), { resourceType: 'Organization', name: 'eHealth-platform Belgium (summary service)', address: [{ country: 'BE' }] });
  let n = 10;
  const problems = p.summary.problems.map((x) =>
    add(seq(n++), { resourceType: 'Condition', clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] }, code: concept(x.text, x.codes), subject }),
  );
  const medications = p.summary.medications.map((x) =>
    add(seq(n++), { resourceType: 'MedicationStatement', status: 'active', medicationCodeableConcept: concept(x.text, x.codes), subject, effectivePeriod: { start: '2024-01-01' } }),
  );
  const allergies =
    p.summary.allergies === 'nilknown'
      ? []
      : p.summary.allergies.map((x) =>
          add(seq(n++), {
            resourceType: 'AllergyIntolerance',
            clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical', code: 'active' }] },
            code: concept(x.text, x.codes),
            patient: subject,
            ...(x.reaction ? { reaction: [{ manifestation: [concept(x.reaction[2], [x.reaction])] }] } : {}),
          }),
        );
  const section = (code: string, title: string, refs: Array<{ reference: string }>, empty?: string): CompositionSection => ({
    title,
    code: { coding: [{ system: LOINC, code }] },
    text: { status: 'generated', div: `<div xmlns="http://www.w3.org/1999/xhtml">${title}</div>` },
    ...(refs.length ? { entry: refs } : { emptyReason: { coding: [{ system: EMPTY_REASON, code: empty ?? 'nilknown' }] } }),
  });
  const fr = p.language === 'fr';
  const sections = [
    section('11450-4', fr ? 'Problèmes' : 'Problemen', problems),
    section('10160-0', fr ? 'Médication' : 'Medicatie', medications),
    section('48765-2', fr ? 'Allergies et intolérances' : 'Allergieën en intoleranties', allergies, 'nilknown'),
    ...(p.summary.immunizations === 'withheld' ? [section('11369-6', fr ? 'Vaccinations' : 'Vaccinaties', [], 'withheld')] : []),
  ];
  const composition: Composition = {
    resourceType: 'Composition',
    status: 'final',
    type: { coding: [{ system: LOINC, code: '60591-5', display: 'Patient summary Document' }] },
    subject,
    date: now.toISOString(),
    author: [author],
    title: fr ? 'Dossier patient résumé' : 'Patiëntsamenvatting',
    language: p.language,
    section: sections,
  } as Composition;
  const compositionEntry = { fullUrl: `urn:uuid:${seq(0)}`, resource: { ...composition, id: seq(0) } };
  return {
    resourceType: 'Bundle',
    identifier: { system: 'urn:ietf:rfc:3986', value: `urn:uuid:${seq(99)}` },
    type: 'document',
    timestamp: now.toISOString(),
    entry: [compositionEntry, ...entries],
  };
}
