import type {
  AllergyIntolerance,
  CodeableConcept,
  Condition,
  Encounter,
  Flag,
  Identifier,
  Immunization,
  Medication,
  MedicationDispense,
  MedicationRequest,
  MedicationStatement,
  Observation,
  Patient,
  Procedure,
  Reference,
  Resource,
} from '@medplum/fhirtypes';
import { CODE_SYSTEM, SYSTEM } from '../../kit/identifiers/index.ts';
import type { AllergenDef, Concept, ConditionDef, DrugDef, LabDef } from './catalogue.ts';
import { ENCOUNTER_TYPES, VITALS } from './catalogue.ts';
import { dateOnly, plusHours } from './dates.ts';
import { stableId } from './random.ts';
import { TERMINOLOGY, custodianSystem } from './systems.ts';

// Builders for the resources one simulated EHR holds about one patient. Every resource gets
// a CustodianAssignedIdentifier (generic-functions-specs §1), meta.lastUpdated and a
// reference to the holder's own Patient; ids are stable hashes so a seed reproduces them.

export interface Holder {
  ura: string;
  name: string;
}

export interface PersonData {
  bsn: string;
  given: string;
  prefix?: string;
  family: string;
  birthDate: string;
  gender: 'male' | 'female' | 'other';
  city?: string;
}

/** Everything a builder needs to place a record in one holder's EHR about one patient. */
export class Chart {
  readonly patientId: string;
  readonly resources: Resource[] = [];
  private counter = 0;

  constructor(
    readonly holder: Holder,
    readonly person: PersonData,
    readonly seed: string,
  ) {
    this.patientId = stableId('pat', seed, holder.ura, person.bsn);
  }

  get patientRef(): Reference<Patient> {
    return { reference: `Patient/${this.patientId}` };
  }

  nextId(prefix: string): string {
    this.counter += 1;
    return stableId(prefix, this.seed, this.holder.ura, this.person.bsn, prefix, this.counter);
  }

  identifier(resourceType: string, id: string): Identifier {
    return custodianIdentifier(this.holder, resourceType, id);
  }

  add<T extends Resource>(resource: T): T {
    this.resources.push(resource);
    return resource;
  }
}

export function custodianIdentifier(holder: Holder, resourceType: string, value: string): Identifier {
  return {
    use: 'official',
    system: custodianSystem(holder.ura, resourceType),
    value,
    assigner: {
      identifier: {
        type: { coding: [{ system: CODE_SYSTEM.provenanceParticipantType, code: 'custodian', display: 'Custodian' }] },
        system: SYSTEM.ura,
        value: holder.ura,
      },
      display: holder.name,
    },
  };
}

const sct = (c: Concept, text?: string): CodeableConcept => ({
  coding: [{ system: TERMINOLOGY.snomed, code: c.code, display: c.display }],
  ...((text ?? c.text) ? { text: text ?? c.text } : {}),
});
const loinc = (c: Concept): CodeableConcept => ({ coding: [{ system: TERMINOLOGY.loinc, code: c.code, display: c.display }], ...(c.text ? { text: c.text } : {}) });
const coded = (system: string, code: string, display?: string): CodeableConcept => ({
  coding: [{ system, code, ...(display ? { display } : {}) }],
});
const meta = (instant: string, hoursLater = 2) => ({ versionId: '1', lastUpdated: plusHours(instant, hoursLater) });

export function patient(chart: Chart, recordedAt: string): Patient {
  const p = chart.person;
  return chart.add<Patient>({
    resourceType: 'Patient',
    id: chart.patientId,
    meta: meta(recordedAt, 0),
    identifier: [
      { use: 'official', system: SYSTEM.bsn, value: p.bsn },
      chart.identifier('Patient', chart.patientId),
    ],
    active: true,
    name: [
      {
        use: 'official',
        family: p.prefix ? `${p.prefix} ${p.family}` : p.family,
        given: [p.given],
        text: `${p.given} ${p.prefix ? `${p.prefix} ` : ''}${p.family}`,
      },
    ],
    gender: p.gender,
    birthDate: p.birthDate,
    ...(p.city ? { address: [{ use: 'home', city: p.city, country: 'NL' }] } : {}),
  });
}

export function condition(
  chart: Chart,
  def: ConditionDef,
  onset: string,
  opts: { resolved?: string; encounter?: Reference<Encounter>; category?: 'problem-list-item' | 'encounter-diagnosis' } = {},
): Condition {
  const id = chart.nextId('cond');
  const status = opts.resolved ? 'resolved' : 'active';
  return chart.add<Condition>({
    resourceType: 'Condition',
    id,
    meta: meta(opts.resolved ?? onset),
    identifier: [chart.identifier('Condition', id)],
    clinicalStatus: coded(TERMINOLOGY.conditionClinical, status),
    verificationStatus: coded(TERMINOLOGY.conditionVerification, 'confirmed'),
    category: [coded(TERMINOLOGY.conditionCategory, opts.category ?? 'problem-list-item')],
    code: sct(def, def.text),
    subject: chart.patientRef,
    ...(opts.encounter ? { encounter: opts.encounter } : {}),
    onsetDateTime: dateOnly(onset),
    ...(opts.resolved ? { abatementDateTime: dateOnly(opts.resolved) } : {}),
    recordedDate: dateOnly(onset),
  });
}

export function allergy(
  chart: Chart,
  def: AllergenDef,
  onset: string,
  opts: { severity?: 'mild' | 'moderate' | 'severe'; criticality?: 'low' | 'high'; note?: string } = {},
): AllergyIntolerance {
  const id = chart.nextId('alg');
  return chart.add<AllergyIntolerance>({
    resourceType: 'AllergyIntolerance',
    id,
    meta: meta(onset, 3),
    identifier: [chart.identifier('AllergyIntolerance', id)],
    clinicalStatus: coded(TERMINOLOGY.allergyClinical, 'active', 'Active'),
    verificationStatus: coded(TERMINOLOGY.allergyVerification, 'confirmed', 'Confirmed'),
    type: 'allergy',
    category: [def.category],
    criticality: opts.criticality ?? 'high',
    code: sct(def, def.text),
    patient: chart.patientRef,
    onsetDateTime: dateOnly(onset),
    recordedDate: dateOnly(onset),
    reaction: [
      {
        substance: sct(def),
        manifestation: def.reactions.map((r) => sct(r)),
        severity: opts.severity ?? 'moderate',
        onset: dateOnly(onset),
      },
    ],
    ...(opts.note ? { note: [{ text: opts.note }] } : {}),
  });
}

/** The drug as a contained Medication (zib FarmaceutischProduct), referenced as #med. */
export function containedMedication(drug: DrugDef): Medication {
  return {
    resourceType: 'Medication',
    id: 'med',
    code: { coding: [{ system: TERMINOLOGY.atc, code: drug.atc, display: drug.substance }], text: drug.text },
    form: sct(drug.form),
  };
}

const medRef: Reference<Medication> = { reference: '#med' };

export function medicationRequest(chart: Chart, drug: DrugDef, authoredOn: string, opts: { status?: MedicationRequest['status'] } = {}): MedicationRequest {
  const id = chart.nextId('mreq');
  return chart.add<MedicationRequest>({
    resourceType: 'MedicationRequest',
    id,
    meta: meta(authoredOn, 1),
    contained: [containedMedication(drug)],
    identifier: [chart.identifier('MedicationRequest', id)],
    status: opts.status ?? 'active',
    intent: 'order',
    category: [coded(TERMINOLOGY.medicationRequestCategory, 'community', 'Community')],
    medicationReference: medRef,
    subject: chart.patientRef,
    authoredOn: dateOnly(authoredOn),
    dosageInstruction: [{ text: drug.doseText }],
  });
}

export function medicationStatement(chart: Chart, drug: DrugDef, since: string, opts: { note?: string; category?: 'community' | 'inpatient' | 'patientspecified' } = {}): MedicationStatement {
  const id = chart.nextId('mst');
  return chart.add<MedicationStatement>({
    resourceType: 'MedicationStatement',
    id,
    meta: meta(since, 1),
    contained: [containedMedication(drug)],
    identifier: [chart.identifier('MedicationStatement', id)],
    status: 'active',
    category: coded(TERMINOLOGY.medicationStatementCategory, opts.category ?? 'community'),
    medicationReference: medRef,
    subject: chart.patientRef,
    effectivePeriod: { start: dateOnly(since) },
    dateAsserted: dateOnly(since),
    dosage: [{ text: drug.doseText }],
    ...(opts.note ? { note: [{ text: opts.note }] } : {}),
  });
}

export function medicationDispense(chart: Chart, drug: DrugDef, handedOver: string, days: number): MedicationDispense {
  const id = chart.nextId('mdisp');
  return chart.add<MedicationDispense>({
    resourceType: 'MedicationDispense',
    id,
    meta: meta(handedOver, 1),
    contained: [containedMedication(drug)],
    identifier: [chart.identifier('MedicationDispense', id)],
    status: 'completed',
    medicationReference: medRef,
    subject: chart.patientRef,
    quantity: { value: drug.perDay * days, unit: 'stuk', system: TERMINOLOGY.ucum, code: '1' },
    daysSupply: { value: days, unit: 'dag', system: TERMINOLOGY.ucum, code: 'd' },
    whenHandedOver: handedOver,
    dosageInstruction: [{ text: drug.doseText }],
  });
}

function quantity(value: number, unit: string) {
  return { value, unit, system: TERMINOLOGY.ucum, code: unit };
}

export function labResult(chart: Chart, def: LabDef, value: number, at: string): Observation {
  const id = chart.nextId('lab');
  const interpretation = value < def.low ? 'L' : value > def.high ? 'H' : 'N';
  return chart.add<Observation>({
    resourceType: 'Observation',
    id,
    meta: meta(at, 4),
    identifier: [chart.identifier('Observation', id)],
    status: 'final',
    category: [coded(TERMINOLOGY.observationCategory, 'laboratory', 'Laboratory')],
    code: loinc(def),
    subject: chart.patientRef,
    effectiveDateTime: at,
    valueQuantity: quantity(value, def.unit),
    interpretation: [coded(TERMINOLOGY.observationInterpretation, interpretation)],
    referenceRange: [{ low: quantity(def.low, def.unit), high: quantity(def.high, def.unit) }],
  });
}

function vitalBase(chart: Chart, code: CodeableConcept, at: string): Observation {
  const id = chart.nextId('vs');
  return {
    resourceType: 'Observation',
    id,
    meta: meta(at, 1),
    identifier: [chart.identifier('Observation', id)],
    status: 'final',
    category: [coded(TERMINOLOGY.observationCategory, 'vital-signs', 'Vital Signs')],
    code,
    subject: chart.patientRef,
    effectiveDateTime: at,
  };
}

export function bloodPressure(chart: Chart, systolic: number, diastolic: number, at: string): Observation {
  return chart.add<Observation>({
    ...vitalBase(chart, loinc(VITALS.bloodPressure), at),
    component: [
      { code: loinc(VITALS.systolic), valueQuantity: quantity(systolic, 'mm[Hg]') },
      { code: loinc(VITALS.diastolic), valueQuantity: quantity(diastolic, 'mm[Hg]') },
    ],
  });
}

export function vital(chart: Chart, kind: 'heartRate' | 'bodyWeight' | 'bodyHeight' | 'bmi' | 'temperature' | 'oxygenSaturation', value: number, at: string): Observation {
  const unit = { heartRate: '/min', bodyWeight: 'kg', bodyHeight: 'cm', bmi: 'kg/m2', temperature: 'Cel', oxygenSaturation: '%' }[kind];
  return chart.add<Observation>({ ...vitalBase(chart, loinc(VITALS[kind]), at), valueQuantity: quantity(value, unit) });
}

export function encounter(
  chart: Chart,
  kind: keyof typeof ENCOUNTER_TYPES,
  start: string,
  end: string,
  opts: { reason?: ConditionDef } = {},
): Encounter {
  const id = chart.nextId('enc');
  const cls = { consultation: 'AMB', emergency: 'EMER', admission: 'IMP', homeVisit: 'HH' }[kind];
  const clsDisplay = { AMB: 'ambulatory', EMER: 'emergency', IMP: 'inpatient encounter', HH: 'home health' }[cls];
  return chart.add<Encounter>({
    resourceType: 'Encounter',
    id,
    meta: meta(end, 2),
    identifier: [chart.identifier('Encounter', id)],
    status: 'finished',
    class: { system: TERMINOLOGY.actCode, code: cls, display: clsDisplay },
    type: [sct(ENCOUNTER_TYPES[kind])],
    subject: chart.patientRef,
    period: { start, end },
    ...(opts.reason ? { reasonCode: [sct(opts.reason, opts.reason.text)] } : {}),
    serviceProvider: { identifier: { system: SYSTEM.ura, value: chart.holder.ura }, display: chart.holder.name },
  });
}

export function procedure(chart: Chart, def: Concept, at: string, opts: { text?: string; encounter?: Reference<Encounter>; reason?: ConditionDef } = {}): Procedure {
  const id = chart.nextId('proc');
  return chart.add<Procedure>({
    resourceType: 'Procedure',
    id,
    meta: meta(at, 3),
    identifier: [chart.identifier('Procedure', id)],
    status: 'completed',
    code: sct(def, opts.text),
    subject: chart.patientRef,
    ...(opts.encounter ? { encounter: opts.encounter } : {}),
    performedDateTime: at,
    ...(opts.reason ? { reasonCode: [sct(opts.reason, opts.reason.text)] } : {}),
  });
}

export function immunization(chart: Chart, vaccine: Concept & { text: string }, at: string): Immunization {
  const id = chart.nextId('imm');
  return chart.add<Immunization>({
    resourceType: 'Immunization',
    id,
    meta: meta(at, 2),
    identifier: [chart.identifier('Immunization', id)],
    status: 'completed',
    vaccineCode: { coding: [{ system: TERMINOLOGY.atc, code: vaccine.code, display: vaccine.display }], text: vaccine.text },
    patient: chart.patientRef,
    occurrenceDateTime: at,
    primarySource: true,
  });
}

export function flag(chart: Chart, def: Concept & { text: string; category: string }, since: string): Flag {
  const id = chart.nextId('flag');
  return chart.add<Flag>({
    resourceType: 'Flag',
    id,
    meta: meta(since, 1),
    identifier: [chart.identifier('Flag', id)],
    status: 'active',
    category: [coded(TERMINOLOGY.flagCategory, def.category)],
    code: sct(def, def.text),
    subject: chart.patientRef,
    period: { start: dateOnly(since) },
  });
}

export function refTo<T extends Resource>(resource: T): Reference<T> {
  return { reference: `${resource.resourceType}/${resource.id}` };
}
