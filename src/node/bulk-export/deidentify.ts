import { createHmac } from 'node:crypto';
import type { Patient, Resource } from '@medplum/fhirtypes';
import type { DatePrecision } from '../../secondary-use/contract.ts';

// De-identification before anything leaves the holder (issue 22). Allow-list for the Patient
// (pseudonym, gender, generalised birth/death date); for every other resource a deny-list walk:
// identifying elements, narrative, notes, extensions and people references go; patient references
// become the research pseudonym, other references and ids an opaque per-extraction id (so nothing
// links to the EHR's own ids or across permits); dates are cut to the permit's precision. As a
// second net, any string holding a 9-digit run, a full date or one of the patient's own names,
// address or telecom values is dropped whole: free text cannot be cleaned reliably, only left out.

export interface DeidContext {
  /** Research pseudonym of this patient under the permit. */
  pseudonym: string;
  /** The EHR's ids of this patient's Patient records (references to them become the pseudonym). */
  patientIds: ReadonlySet<string>;
  precision: DatePrecision;
  /** Per-extraction secret for opaque ids of other resources. */
  idKey: Uint8Array;
  /** The patient's identifying strings (see sensitiveStrings). */
  sensitive: readonly string[];
}

/** Elements removed wherever they occur. */
const DROPPED = new Set([
  'identifier', 'name', 'telecom', 'address', 'photo', 'contact', 'text', 'note', 'extension', 'modifierExtension', 'meta', 'implicitRules',
  'performer', 'recorder', 'asserter', 'requester', 'informationSource', 'author', 'participant', 'serviceProvider', 'location',
  'generalPractitioner', 'managingOrganization', 'link', 'hospitalization', 'dispenser', 'receiver', 'sender', 'source', 'attachment',
  'presentedForm', 'signature',
]);
/** Contained resources about people or organisations never travel. */
const PEOPLE = new Set(['Patient', 'Practitioner', 'PractitionerRole', 'RelatedPerson', 'Person', 'Organization', 'Location']);
/** Kept verbatim: coded values, not dates or free text. (Quantity.unit is free text in FHIR: checked as such.) */
const CODED = new Set(['system', 'code', 'version', 'status', 'resourceType', 'use', 'comparator']);

const DATE_VALUE = /^\d{4}(-\d{2}(-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/;
const EMBEDDED_DATE = /\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}|\d{8}/;
const DIGIT_RUN = /\d{9}/;
const SEPARATED_DATE = /\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}/;
/** An OID code system (the Dutch national ones: G-standaard, UZI, AGB): "2.16.840" is an arc, not a date. */
const OID_SYSTEM = /^urn:oid:[0-2](\.(0|[1-9]\d*))+$/;
/** Names and values shorter than this are not searched for in text (they would match everything). */
const MIN_SENSITIVE = 3;

export function generaliseDate(value: string, precision: DatePrecision): string {
  return value.slice(0, precision === 'year' ? 4 : 7);
}

/** The strings that identify this patient, lower-cased, for the free-text net. */
export function sensitiveStrings(patients: readonly Patient[], bsn: string): string[] {
  const out = new Set<string>([bsn]);
  const add = (v: unknown) => {
    if (typeof v === 'string') for (const part of [v, ...v.split(/[\s,]+/)]) if (part.trim().length >= MIN_SENSITIVE) out.add(part.trim().toLowerCase());
  };
  for (const p of patients) {
    add(p.id);
    for (const n of p.name ?? []) [n.text, n.family, ...(n.given ?? []), ...(n.prefix ?? [])].forEach(add);
    for (const a of p.address ?? []) [a.text, a.city, a.postalCode, a.district, ...(a.line ?? [])].forEach(add);
    for (const t of p.telecom ?? []) add(t.value);
    for (const i of p.identifier ?? []) add(i.value);
    for (const c of p.contact ?? []) {
      [c.name?.text, c.name?.family, ...(c.name?.given ?? [])].forEach(add);
      for (const t of c.telecom ?? []) add(t.value);
    }
  }
  return [...out];
}

function opaqueId(ctx: DeidContext, type: string, id: string): string {
  return createHmac('sha256', ctx.idKey).update(`${type}/${id}`).digest('hex').slice(0, 32);
}

function isSensitive(value: string, ctx: DeidContext): boolean {
  const lower = value.toLowerCase();
  return ctx.sensitive.some((s) => lower.includes(s));
}

function safeString(value: string, ctx: DeidContext): boolean {
  return !DIGIT_RUN.test(value) && !EMBEDDED_DATE.test(value) && !isSensitive(value, ctx);
}

/** A contained resource's id and the '#' references to it: kept only when it cannot carry a date or an identity. */
function safeLocalId(id: string, ctx: DeidContext): boolean {
  return /^[A-Za-z0-9.-]{1,64}$/.test(id) && !/\d{4}-\d{1,2}/.test(id) && !DATE_VALUE.test(id) && safeString(id, ctx);
}

/** A Reference: to the patient → the pseudonym; local (#) kept; another resource → opaque; anything else dropped. */
function reference(ref: Record<string, unknown>, ctx: DeidContext): Record<string, unknown> | undefined {
  const r = ref.reference;
  if (typeof r !== 'string') return undefined;
  if (r.startsWith('#')) return safeLocalId(r.slice(1), ctx) ? { reference: r } : undefined;
  const m = /^(?:https?:\/\/[^\s]+\/)?([A-Z][A-Za-z]+)\/([A-Za-z0-9.-]{1,64})(?:\/_history\/[^/]+)?$/.exec(r);
  if (!m) return undefined;
  const [, type, id] = m;
  if (type === 'Patient') return ctx.patientIds.has(id) ? { reference: `Patient/${ctx.pseudonym}` } : undefined;
  if (PEOPLE.has(type)) return undefined;
  return { reference: `${type}/${opaqueId(ctx, type, id)}` };
}

function walk(value: unknown, key: string, ctx: DeidContext): unknown {
  if (typeof value === 'string') {
    // Codes may be long digit runs (SNOMED): only the patient's own values and separated dates go.
    if (CODED.has(key)) {
      const dated = !(key === 'system' && OID_SYSTEM.test(value)) && SEPARATED_DATE.test(value);
      return dated || isSensitive(value, ctx) ? undefined : value;
    }
    if (DATE_VALUE.test(value)) return generaliseDate(value, ctx.precision);
    return safeString(value, ctx) ? value : undefined;
  }
  if (typeof value === 'number') return Number.isInteger(value) && Math.abs(value) >= 10_000_000 ? undefined : value;
  if (typeof value === 'boolean') return value;
  if (Array.isArray(value)) {
    const items = value.map((v) => walk(v, key, ctx)).filter((v) => v !== undefined);
    return items.length ? items : undefined;
  }
  if (typeof value === 'object' && value !== null) {
    const o = value as Record<string, unknown>;
    if ('reference' in o || key === 'subject' || key === 'patient' || key === 'beneficiary' || key === 'individual') return reference(o, ctx);
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(o)) {
      if (DROPPED.has(k) || (k === 'display' && !('code' in o))) continue;
      const w = k === 'contained' ? contained(v, ctx) : walk(v, k, ctx);
      if (w !== undefined) out[k] = w;
    }
    return Object.keys(out).length ? out : undefined;
  }
  return undefined;
}

function contained(value: unknown, ctx: DeidContext): unknown {
  if (!Array.isArray(value)) return undefined;
  const kept = value
    .filter((r) => typeof r === 'object' && r !== null && !PEOPLE.has((r as Resource).resourceType))
    .map((r) => {
      const { id, ...rest } = r as Record<string, unknown>;
      const w = walk(rest, 'contained', ctx) as Record<string, unknown> | undefined;
      return w && typeof id === 'string' && safeLocalId(id, ctx) ? { ...w, id } : w;
    })
    .filter((r) => r !== undefined);
  return kept.length ? kept : undefined;
}

export function deidentifyPatient(patient: Patient, ctx: DeidContext): Patient {
  const out: Patient = { resourceType: 'Patient', id: ctx.pseudonym };
  if (patient.gender && ['male', 'female', 'other', 'unknown'].includes(patient.gender)) out.gender = patient.gender;
  if (typeof patient.birthDate === 'string' && DATE_VALUE.test(patient.birthDate)) out.birthDate = generaliseDate(patient.birthDate, ctx.precision);
  if (typeof patient.deceasedDateTime === 'string' && DATE_VALUE.test(patient.deceasedDateTime)) out.deceasedDateTime = generaliseDate(patient.deceasedDateTime, ctx.precision);
  else if (patient.deceasedBoolean === true) out.deceasedBoolean = true;
  return out;
}

/**
 * A medication given as a reference to a contained Medication (as Dutch EHRs and the simulator
 * write it) becomes medicationCodeableConcept with that Medication's code: one place for the ATC
 * code in every extract, whatever the holder's style.
 */
function inlineMedication(resource: Resource): Resource {
  const r = resource as Resource & { medicationReference?: { reference?: string }; contained?: Resource[] };
  const ref = r.medicationReference?.reference;
  if (!ref?.startsWith('#') || !Array.isArray(r.contained)) return resource;
  const med = r.contained.find((c) => c?.resourceType === 'Medication' && `#${c.id}` === ref) as { code?: unknown } | undefined;
  if (!med?.code) return resource;
  const { medicationReference: _ref, contained, ...rest } = r;
  const others = contained.filter((c) => c !== (med as unknown));
  return { ...rest, medicationCodeableConcept: med.code, ...(others.length ? { contained: others } : {}) } as Resource;
}

/** One resource of the patient, de-identified; undefined when nothing safe is left of it. */
export function deidentify(resource: Resource, ctx: DeidContext): Resource | undefined {
  if (resource.resourceType === 'Patient') return deidentifyPatient(resource as Patient, ctx);
  if (PEOPLE.has(resource.resourceType)) return undefined;
  const { id, resourceType, ...rest } = inlineMedication(resource) as Resource & Record<string, unknown>;
  const body = (walk(rest, resourceType, ctx) ?? {}) as Record<string, unknown>;
  return { resourceType, ...(id ? { id: opaqueId(ctx, resourceType, id) } : {}), ...body } as Resource;
}
