import type { CareTeam, Composition, MedicationRequest, Reference, Resource } from '@medplum/fhirtypes';
import { SYSTEM } from '../../kit/identifiers/systems.ts';
import { DE_GROOT, organizationByUra } from '../../sandbox/cast.ts';
import { isBuildingBlock, MP9_CATEGORY, STOP_TYPE, treatmentIdentifier } from '../workflow/exchanges/mp9.ts';
import * as b from './build.ts';
import { Chart } from './build.ts';
import { ALLERGENS, type ConditionDef, DRUGS, PROCEDURES } from './catalogue.ts';
import { CAST_SEED } from './cast-data.ts';
import { dateOnly, daysBefore } from './dates.ts';

// The two workflow stories of the sandbox, as the organisations' own EHRs record them before
// their nurse or GP hands over through the node (notified pull):
// - eOverdracht: Ziekenhuis Veluwe admitted Mr De Groot with a TIA and discharges him to
//   Thuiszorg Limburg; the nursing transfer (a Composition) points at his problems, allergy,
//   medication, the wound care he needs and the receiving team.
// - medicatieoverdracht: the GP in Kerkrade starts clopidogrel after the TIA: a medication
//   agreement and a dispense request (MP9 building blocks) of one treatment, for Apotheek Kerkrade.
// Not part of the default seed: the acceptance story has Veluwe hold nothing about him until he
// is admitted; tests and the demo write these through the simulator's FHIR API (PUT, stable ids).

export const VELUWE = '90000101';
export const THUISZORG = '90000105';
export const GP = '90000103';
export const PHARMACY = '90000104';

const TIA: ConditionDef = { code: '266257000', display: 'Transient ischemic attack', text: 'TIA', chronic: false, minAge: 40 };
const PRESSURE_ULCER: ConditionDef = { code: '28103007', display: 'Pressure injury', text: 'Decubitus sacrum categorie 2', chronic: false, minAge: 0 };

function holder(ura: string) {
  const org = organizationByUra(ura);
  if (!org) throw new Error(`cast organisation ${ura} missing`);
  return { ura: org.ura, name: org.name };
}

const refOf = (r: Resource): Reference => ({ reference: `${r.resourceType}/${r.id}` });

export interface HandoverStory {
  /** Everything the hospital's EHR records (PUT each). */
  resources: Resource[];
  composition: Composition;
  /** What the nurse hands over: the Composition and every source its sections name. */
  inputs: string[];
}

/** Veluwe's record of De Groot's admission and the nursing transfer to home care. */
export function deGrootDischarge(reference = `${new Date().toISOString().slice(0, 10)}T09:00:00Z`): HandoverStory {
  const at = (daysAgo: number, hour = 10) => daysBefore(reference, daysAgo, hour);
  const chart = new Chart(holder(VELUWE), { ...DE_GROOT }, CAST_SEED);
  b.patient(chart, at(5, 8));
  const admission = b.encounter(chart, 'admission', at(5, 9), at(0, 11), { reason: TIA });
  const tia = b.condition(chart, TIA, at(5, 9), { encounter: b.refTo(admission), category: 'encounter-diagnosis' });
  const ulcer = b.condition(chart, PRESSURE_ULCER, at(3, 14), { encounter: b.refTo(admission) });
  const allergy = b.allergy(chart, ALLERGENS.iodinatedContrast, at(5, 12), {
    severity: 'severe',
    note: 'Overgenomen uit het dossier van Ziekenhuis Leiden (landelijk netwerk); bij opname bevestigd door patiënt.',
  });
  const clopidogrel = b.medicationStatement(chart, DRUGS.clopidogrel, at(4, 9), { note: 'Gestart tijdens opname na TIA' });
  const atorvastatin = b.medicationStatement(chart, DRUGS.atorvastatin, at(5, 9));
  const woundCare = b.procedure(chart, PROCEDURES.woundCare, at(1, 10), { text: 'Wondverzorging decubitus sacrum: schoonspoelen, hydrocolloïdverband, om de 3 dagen wisselen; wisselligging' });
  const team: CareTeam = {
    resourceType: 'CareTeam',
    id: chart.nextId('team'),
    status: 'active',
    name: 'Wijkverpleging Kerkrade-West',
    subject: chart.patientRef,
    period: { start: dateOnly(at(0, 11)) },
    participant: [{ member: { identifier: { system: SYSTEM.ura, value: THUISZORG }, display: 'Thuiszorg Limburg' } }],
  };
  chart.add(team);
  const section = (title: string, code: string, entries: Resource[], text?: string) => ({
    title,
    code: { coding: [{ system: 'http://loinc.org', code }] },
    ...(text ? { text: { status: 'generated' as const, div: `<div xmlns="http://www.w3.org/1999/xhtml">${text}</div>` } } : {}),
    entry: entries.map(refOf),
  });
  const composition: Composition = {
    resourceType: 'Composition',
    id: chart.nextId('comp'),
    status: 'final',
    // SNOMED 371535009 "Transfer summary report": the nursing transfer (overdrachtsbericht).
    type: { coding: [{ system: 'http://snomed.info/sct', code: '371535009', display: 'Transfer summary report' }], text: 'Verpleegkundige overdracht' },
    subject: chart.patientRef,
    encounter: b.refTo(admission),
    date: at(0, 10),
    author: [{ identifier: { system: SYSTEM.ura, value: VELUWE }, display: 'Ziekenhuis Veluwe, afdeling Neurologie' }],
    title: 'Verpleegkundige overdracht Ziekenhuis Veluwe → Thuiszorg Limburg',
    custodian: { identifier: { system: SYSTEM.ura, value: VELUWE }, display: 'Ziekenhuis Veluwe' },
    section: [
      section('Problemen', '11450-4', [tia, ulcer]),
      section('Allergieën', '48765-2', [allergy]),
      section('Medicatie', '10160-0', [clopidogrel, atorvastatin]),
      section('Wondzorg', '8648-8', [woundCare], 'Decubitus categorie 2 op het sacrum; verbandwissel om de 3 dagen. Mobiliseert met rollator.'),
      section('Ontvangend team', '85847-2', [team]),
    ],
  };
  chart.add(composition);
  const inputs = [composition, tia, ulcer, allergy, clopidogrel, atorvastatin, woundCare, team].map((r) => `${r.resourceType}/${r.id}`);
  return { resources: chart.resources, composition, inputs };
}

export interface PrescriptionStory {
  resources: MedicationRequest[];
  agreement: MedicationRequest;
  dispenseRequest: MedicationRequest;
  inputs: string[];
  treatment: { system: string; value: string };
}

/** The GP starts clopidogrel for De Groot after the TIA: agreement + dispense request, one treatment. */
export function deGrootPrescription(reference = new Date().toISOString(), options: { drug?: keyof typeof DRUGS; treatment?: string } = {}): PrescriptionStory {
  const chart = new Chart(holder(GP), { ...DE_GROOT }, CAST_SEED);
  const drug = DRUGS[options.drug ?? 'clopidogrel'];
  const treatment = { system: 'https://ldn.example.nl/fhir/NamingSystem/pharmaceutical-treatment', value: options.treatment ?? `${GP}-${drug.atc}-1` };
  const medication = b.containedMedication(drug);
  const common = {
    resourceType: 'MedicationRequest' as const,
    extension: [treatmentIdentifier(treatment)],
    status: 'active' as const,
    intent: 'order' as const,
    contained: [medication],
    medicationReference: { reference: '#med' },
    subject: chart.patientRef,
    authoredOn: reference,
    requester: { identifier: { system: SYSTEM.ura, value: GP }, display: 'Huisartsenpraktijk Kerkrade' },
  };
  const agreement: MedicationRequest = {
    ...common,
    id: chart.nextId('ma'),
    identifier: [chart.identifier('MedicationRequest', `ma-${treatment.value}`)],
    category: [{ coding: [MP9_CATEGORY.medicationAgreement] }],
    dosageInstruction: [{ text: drug.doseText }],
    // The period of use (gebruiksperiode) starts today, open-ended.
    dispenseRequest: { validityPeriod: { start: dateOnly(reference) } },
  };
  const dispenseRequest: MedicationRequest = {
    ...common,
    id: chart.nextId('vv'),
    identifier: [chart.identifier('MedicationRequest', `vv-${treatment.value}`)],
    category: [{ coding: [MP9_CATEGORY.dispenseRequest] }],
    dispenseRequest: {
      quantity: { value: drug.perDay * 30, unit: 'stuk', system: 'http://unitsofmeasure.org', code: '1' },
      expectedSupplyDuration: { value: 30, unit: 'dag', system: 'http://unitsofmeasure.org', code: 'd' },
      performer: { identifier: { system: SYSTEM.ura, value: PHARMACY }, display: 'Apotheek Kerkrade' },
    },
    dosageInstruction: [{ text: drug.doseText }],
  };
  dispenseRequest.basedOn = [{ reference: `MedicationRequest/${agreement.id}` }];
  return { resources: [agreement, dispenseRequest], agreement, dispenseRequest, inputs: [`MedicationRequest/${agreement.id}`, `MedicationRequest/${dispenseRequest.id}`], treatment };
}

/** The prescriber stops a medication agreement: a new agreement of the same treatment with a stop type. */
export function stopAgreement(agreement: MedicationRequest, at: string, id: string): MedicationRequest {
  if (!isBuildingBlock(agreement, 'medicationAgreement')) throw new Error('only a medication agreement is stopped');
  return {
    ...agreement,
    id,
    identifier: agreement.identifier?.map((i) => ({ ...i, value: `${i.value}-stop` })),
    status: 'stopped',
    authoredOn: at,
    modifierExtension: [{ url: 'http://nictiz.nl/fhir/StructureDefinition/ext-StopType', valueCodeableConcept: { coding: [STOP_TYPE.stopped] } }],
    dispenseRequest: { validityPeriod: { start: agreement.dispenseRequest?.validityPeriod?.start, end: dateOnly(at) } },
  };
}
