import { randomUUID } from 'node:crypto';
import type { Bundle, BundleEntry, Composition, CompositionSection, Observation, OperationOutcome, Organization, Patient, Reference, Resource } from '@medplum/fhirtypes';
import { SYSTEM } from '../../../kit/identifiers/systems.ts';
import { SOURCE_EXTENSION } from '../../integration/merge.ts';

// The International Patient Summary as a FHIR document (HL7 IPS, R4): a Bundle of type
// `document` whose first entry is a Composition (LOINC 60591-5) with the IPS sections, built from
// one merged overview of the `ips` exchange. Required sections (allergies, medication, problems)
// are always present, with an emptyReason when nothing is known; recommended ones when there is
// data. Every entry keeps its source extension; full URLs are urn:uuid, so the document stands on
// its own (e.g. to leave the country later).

const LOINC = 'http://loinc.org';
const EMPTY_REASON = 'http://terminology.hl7.org/CodeSystem/list-empty-reason';
export const INCOMPLETE_EXTENSION = 'https://ldn.example.nl/fhir/StructureDefinition/summary-incomplete';

export interface IpsSectionDef {
  key: string;
  code: string;
  title: string;
  required: boolean;
  holds(r: Resource): boolean;
}

const hasCategory = (r: Resource, code: string) =>
  ((r as { category?: Array<{ coding?: Array<{ code?: string }> }> }).category ?? []).some((c) => (c.coding ?? []).some((x) => x.code === code));

/** The IPS sections (IPS IG Composition slices), in document order. */
export const IPS_SECTIONS: IpsSectionDef[] = [
  { key: 'problems', code: '11450-4', title: 'Problem list', required: true, holds: (r) => r.resourceType === 'Condition' },
  { key: 'allergies', code: '48765-2', title: 'Allergies and intolerances', required: true, holds: (r) => r.resourceType === 'AllergyIntolerance' },
  {
    key: 'medication',
    code: '10160-0',
    title: 'Medication summary',
    required: true,
    holds: (r) => ['MedicationStatement', 'MedicationRequest', 'MedicationDispense'].includes(r.resourceType),
  },
  { key: 'immunizations', code: '11369-6', title: 'History of immunizations', required: false, holds: (r) => r.resourceType === 'Immunization' },
  { key: 'procedures', code: '47519-4', title: 'History of procedures', required: false, holds: (r) => r.resourceType === 'Procedure' },
  { key: 'devices', code: '46264-8', title: 'Medical devices', required: false, holds: (r) => r.resourceType === 'DeviceUseStatement' },
  {
    key: 'results',
    code: '30954-2',
    title: 'Diagnostic results',
    required: false,
    holds: (r) => (r.resourceType === 'Observation' && hasCategory(r, 'laboratory')) || r.resourceType === 'DiagnosticReport',
  },
  { key: 'vitals', code: '8716-3', title: 'Vital signs', required: false, holds: (r) => r.resourceType === 'Observation' && hasCategory(r, 'vital-signs') },
];

export interface IpsInput {
  /** The merged overview (src/node/integration/merge.ts) of the ips exchange. */
  overview: Bundle;
  /** The organisation that made the summary (Composition.author). */
  author: { ura: string; name: string };
  now?: Date;
}

function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

function labelOf(r: Resource): string {
  const a = r as { code?: { text?: string; coding?: Array<{ display?: string }> }; medicationCodeableConcept?: { text?: string; coding?: Array<{ display?: string }> }; vaccineCode?: { text?: string }; contained?: Array<{ code?: { text?: string; coding?: Array<{ display?: string }> } }> };
  const cc = a.code ?? a.medicationCodeableConcept ?? a.vaccineCode ?? a.contained?.[0]?.code;
  return cc?.text ?? (cc as { coding?: Array<{ display?: string }> } | undefined)?.coding?.find((c) => c.display)?.display ?? r.resourceType;
}

function narrative(items: string[]): { status: 'generated'; div: string } {
  const body = items.length ? `<ul>${items.map((i) => `<li>${escapeXml(i)}</li>`).join('')}</ul>` : '<p>No information available</p>';
  return { status: 'generated', div: `<div xmlns="http://www.w3.org/1999/xhtml">${body}</div>` };
}

/** Re-points references to the overview's patient (and other overview URLs) at the document's full URLs. */
function repoint<T>(value: T, urls: Map<string, string>): T {
  if (Array.isArray(value)) return value.map((v) => repoint(v, urls)) as T;
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = k === 'reference' && typeof v === 'string' && urls.has(v) ? urls.get(v) : repoint(v, urls);
    return out as T;
  }
  return value;
}

/**
 * The IPS lab-result profile requires a performer: when the holder's record names none, the
 * organisations that reported the result (its source extensions) answer for it.
 */
function withPerformer(r: Resource): Resource {
  if (r.resourceType !== 'Observation' || !hasCategory(r, 'laboratory') || (r as Observation).performer?.length) return r;
  const sources = (r as Observation).extension?.filter((e) => e.url === SOURCE_EXTENSION && e.valueReference).map((e) => e.valueReference as Reference) ?? [];
  return sources.length ? ({ ...r, performer: sources } as Observation) : r;
}

export function ipsDocument(input: IpsInput): Bundle {
  const now = (input.now ?? new Date()).toISOString();
  const entries = input.overview.entry ?? [];
  const urls = new Map<string, string>();
  for (const e of entries) if (e.fullUrl && e.resource?.resourceType !== 'Provenance') urls.set(e.fullUrl, `urn:uuid:${randomUUID()}`);
  const patientEntry = entries.find((e) => e.resource?.resourceType === 'Patient');
  const patientUrl = patientEntry?.fullUrl ? (urls.get(patientEntry.fullUrl) as string) : `urn:uuid:${randomUUID()}`;
  const patient: Patient = patientEntry ? { ...(patientEntry.resource as Patient), id: undefined } : { resourceType: 'Patient' };
  const authorUrl = `urn:uuid:${randomUUID()}`;
  const author: Organization = {
    resourceType: 'Organization',
    identifier: [{ system: SYSTEM.ura, value: input.author.ura }],
    name: input.author.name,
  };
  const clinical = entries.filter((e) => e.resource && !['Patient', 'Provenance', 'OperationOutcome'].includes(e.resource.resourceType));
  const sections: CompositionSection[] = [];
  const documentEntries: BundleEntry[] = [];
  for (const def of IPS_SECTIONS) {
    const mine = clinical.filter((e) => def.holds(e.resource as Resource));
    if (mine.length === 0 && !def.required) continue;
    const refs: Reference[] = [];
    for (const e of mine) {
      const fullUrl = urls.get(e.fullUrl as string) as string;
      const { id: _id, ...rest } = e.resource as Resource & { id?: string };
      documentEntries.push({ fullUrl, resource: withPerformer(repoint(rest as Resource, urls)) });
      refs.push({ reference: fullUrl });
    }
    sections.push({
      title: def.title,
      code: { coding: [{ system: LOINC, code: def.code }] },
      text: narrative(mine.map((e) => labelOf(e.resource as Resource))),
      ...(refs.length
        ? { entry: refs }
        : { emptyReason: { coding: [{ system: EMPTY_REASON, code: 'unavailable', display: 'Unavailable' }] } }),
    });
  }
  const problems = entries
    .map((e) => e.resource)
    .filter((r): r is OperationOutcome => r?.resourceType === 'OperationOutcome')
    .map((o) => o.issue.map((i) => i.diagnostics).filter(Boolean).join('; '));
  const composition: Composition = {
    resourceType: 'Composition',
    status: 'final',
    type: { coding: [{ system: LOINC, code: '60591-5', display: 'Patient summary Document' }] },
    subject: { reference: patientUrl },
    date: now,
    author: [{ reference: authorUrl }],
    title: 'International Patient Summary',
    confidentiality: 'N',
    custodian: { reference: authorUrl },
    // Holders that did not answer make the summary incomplete: said so, never hidden.
    ...(problems.length ? { extension: [{ url: INCOMPLETE_EXTENSION, valueString: problems.join(' | ') }] } : {}),
    section: sections,
  };
  return {
    resourceType: 'Bundle',
    type: 'document',
    identifier: { system: 'urn:ietf:rfc:3986', value: `urn:uuid:${randomUUID()}` },
    timestamp: now,
    entry: [
      { fullUrl: `urn:uuid:${randomUUID()}`, resource: composition },
      { fullUrl: patientUrl, resource: repoint(patient, urls) },
      { fullUrl: authorUrl, resource: author },
      ...documentEntries,
    ],
  };
}
