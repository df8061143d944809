import type { Coding, Observation, Resource } from '@medplum/fhirtypes';
import { CODE_SYSTEM } from '../identifiers/systems.ts';
import { badRequest } from './outcome.ts';

// A measurement a citizen shares from her own app: blood pressure, body weight or blood glucose,
// as a FHIR Observation. What arrives is checked and rebuilt from the known fields only (nothing
// else the app sent is kept), and tagged patient-reported, so every view can say so and no merge
// takes it for a measurement made in care.

export const PATIENT_REPORTED: Coding = { system: CODE_SYSTEM.dataOrigin, code: 'patient-reported', display: 'door patiënt gemeld' };

export function isPatientReported(r: Resource): boolean {
  return (r.meta?.tag ?? []).some((t) => t.system === PATIENT_REPORTED.system && t.code === PATIENT_REPORTED.code);
}

interface Kind {
  display: string;
  text: string;
  unit: string;
  min: number;
  max: number;
}

const SINGLE: Record<string, Kind> = {
  '29463-7': { display: 'Body weight', text: 'Lichaamsgewicht', unit: 'kg', min: 0.5, max: 500 },
  '15074-8': { display: 'Glucose [Moles/volume] in Blood', text: 'Glucose (bloed)', unit: 'mmol/L', min: 0.5, max: 60 },
};
const BLOOD_PRESSURE = '85354-9';
const SYSTOLIC = '8480-6';
const DIASTOLIC = '8462-4';
const MMHG = 'mm[Hg]';
const STATUSES = new Set(['final', 'preliminary', 'amended']);

/** The LOINC codes accepted, for discovery documents and error messages. */
export const MEASUREMENT_CODES = [BLOOD_PRESSURE, ...Object.keys(SINGLE)];

type Any = Record<string, unknown>;
const isObject = (v: unknown): v is Any => typeof v === 'object' && v !== null && !Array.isArray(v);

function loincOf(code: unknown): string | undefined {
  const codings = isObject(code) && Array.isArray(code.coding) ? code.coding : [];
  return codings.find((c: unknown) => isObject(c) && c.system === CODE_SYSTEM.loinc && typeof c.code === 'string')?.code as string | undefined;
}

function quantityOf(v: unknown, kind: { unit: string; min: number; max: number }, field: string): number {
  if (!isObject(v) || typeof v.value !== 'number' || !Number.isFinite(v.value)) throw badRequest(`${field} must be a Quantity with a numeric value`, [field]);
  const unit = v.code ?? v.unit;
  if (unit !== kind.unit) throw badRequest(`${field} must be in ${kind.unit}`, [field]);
  if (v.value < kind.min || v.value > kind.max) throw badRequest(`${field} is outside ${kind.min}–${kind.max} ${kind.unit}`, [field]);
  return v.value;
}

const quantity = (value: number, unit: string) => ({ value, unit, system: CODE_SYSTEM.ucum, code: unit });
const loinc = (code: string, display: string, text?: string) => ({ coding: [{ system: CODE_SYSTEM.loinc, code, display }], ...(text ? { text } : {}) });

/** Checks and rebuilds a shared measurement (without subject: the receiving holder sets it); 400 otherwise. */
export function checkMeasurement(body: unknown, now = Date.now()): Observation {
  if (!isObject(body) || body.resourceType !== 'Observation') throw badRequest('the body must be a FHIR Observation');
  const status = body.status ?? 'final';
  if (typeof status !== 'string' || !STATUSES.has(status)) throw badRequest('status must be final, preliminary or amended', ['Observation.status']);
  const when = body.effectiveDateTime;
  const at = typeof when === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(when) ? Date.parse(when) : Number.NaN;
  if (!Number.isFinite(at)) throw badRequest('effectiveDateTime must be a date-time with a time zone', ['Observation.effectiveDateTime']);
  if (at > now + 5 * 60_000) throw badRequest('effectiveDateTime lies in the future', ['Observation.effectiveDateTime']);
  const code = loincOf(body.code);
  const base: Observation = {
    resourceType: 'Observation',
    meta: { tag: [PATIENT_REPORTED] },
    status: status as Observation['status'],
    category: [{ coding: [{ system: CODE_SYSTEM.observationCategory, code: 'vital-signs', display: 'Vital Signs' }] }],
    code: { coding: [] },
    effectiveDateTime: new Date(at).toISOString(),
  };
  if (code === BLOOD_PRESSURE) {
    const components = Array.isArray(body.component) ? body.component : [];
    const part = (c: string) => components.find((x: unknown) => isObject(x) && loincOf(x.code) === c) as Any | undefined;
    const sys = part(SYSTOLIC);
    const dia = part(DIASTOLIC);
    if (!sys || !dia) throw badRequest(`a blood pressure needs a systolic (${SYSTOLIC}) and a diastolic (${DIASTOLIC}) component`, ['Observation.component']);
    const s = quantityOf(sys.valueQuantity, { unit: MMHG, min: 40, max: 300 }, 'systolic');
    const d = quantityOf(dia.valueQuantity, { unit: MMHG, min: 20, max: 200 }, 'diastolic');
    if (d >= s) throw badRequest('the diastolic pressure must be below the systolic', ['Observation.component']);
    return {
      ...base,
      code: loinc(BLOOD_PRESSURE, 'Blood pressure panel with all children optional', 'Bloeddruk'),
      component: [
        { code: loinc(SYSTOLIC, 'Systolic blood pressure'), valueQuantity: quantity(s, MMHG) },
        { code: loinc(DIASTOLIC, 'Diastolic blood pressure'), valueQuantity: quantity(d, MMHG) },
      ],
    };
  }
  const kind = code ? SINGLE[code] : undefined;
  if (!code || !kind) throw badRequest(`code must be one of LOINC ${MEASUREMENT_CODES.join(', ')}`, ['Observation.code']);
  return { ...base, code: loinc(code, kind.display, kind.text), valueQuantity: quantity(quantityOf(body.valueQuantity, kind, 'valueQuantity'), kind.unit) };
}
