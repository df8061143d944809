import type { Bundle, Composition, Patient, Resource } from '@medplum/fhirtypes';
import { incomingTerms, ORIGIN_TAG_SYSTEM } from '../../ncpeh/contract.ts';

// The summary of a patient from abroad as the viewer shows it: where it came from (country,
// contact point, when), the patient as the other country identifies him, and per IPS section its
// items, each with the Dutch term NCPeH-NL found and the term and codes the other country sent.
// A section says out loud whether the other country sent it empty because nothing is known, held
// it back, could not provide it, or did not send it at all: never a bare "no data".

export type ForeignSectionKey = 'problems' | 'medication' | 'allergies' | 'immunizations' | 'results' | 'procedures' | 'other';
export type ForeignSectionState = 'items' | 'not-sent' | 'withheld' | 'nilknown' | 'unavailable' | 'empty';

export interface ForeignItem {
  dutch?: string;
  original: string;
  /** The other country's codes, e.g. "SNOMED CT 44054006", "CNK 0026781". */
  codes: string[];
  /** Why no Dutch term (a reason code), when untranslated. */
  untranslated?: string;
  /** Further facts (reactions, values), Dutch term first when there is one. */
  details: string[];
}

export interface ForeignSection {
  key: ForeignSectionKey;
  /** The title the other country gave it (shown when the key is 'other'). */
  title: string;
  state: ForeignSectionState;
  items: ForeignItem[];
}

export interface ForeignSummaryModel {
  country: string;
  /** The other country's contact point as the trust list names it. */
  contactPoint: string;
  /** The contact point's gateway address. */
  source?: string;
  received?: string;
  documentDate?: string;
  patient: { name?: string; birthDate?: string; gender?: string; identifier?: string };
  sections: ForeignSection[];
}

const SECTION_KEYS: Record<string, ForeignSectionKey> = {
  '11450-4': 'problems',
  '10160-0': 'medication',
  '48765-2': 'allergies',
  '11369-6': 'immunizations',
  '30954-2': 'results',
  '47519-4': 'procedures',
};
const EXPECTED: ForeignSectionKey[] = ['problems', 'medication', 'allergies', 'immunizations', 'results', 'procedures'];

const SYSTEM_NAMES: Array<[RegExp, string]> = [
  [/^http:\/\/snomed\.info\/sct/, 'SNOMED CT'],
  [/^http:\/\/www\.whocc\.no\/atc/, 'ATC'],
  [/^http:\/\/loinc\.org/, 'LOINC'],
  [/\/cnk$/, 'CNK'],
  [/\/ibui$/, 'IBUI'],
];

export function codeLabel(system: string, code: string): string {
  const name = SYSTEM_NAMES.find(([re]) => re.test(system))?.[1] ?? system.replace(/\/$/, '').split(/[/:]/).at(-1) ?? system;
  return `${name} ${code}`;
}

type Json = Record<string, unknown>;

function mainConcept(r: Json): unknown {
  switch (r.resourceType) {
    case 'MedicationStatement':
    case 'MedicationRequest': {
      if (r.medicationCodeableConcept) return r.medicationCodeableConcept;
      const contained = Array.isArray(r.contained) ? (r.contained as Json[]).find((c) => c.resourceType === 'Medication') : undefined;
      return contained?.code;
    }
    case 'Immunization':
      return r.vaccineCode;
    default:
      return r.code;
  }
}

function detailsOf(r: Json): string[] {
  const out: string[] = [];
  const term = (c: unknown) => {
    const t = incomingTerms(c);
    return t.dutch && t.dutch !== t.original ? `${t.dutch} (${t.original})` : t.original;
  };
  if (r.resourceType === 'AllergyIntolerance' && Array.isArray(r.reaction)) {
    for (const reaction of r.reaction as Json[]) for (const m of (reaction.manifestation as unknown[]) ?? []) out.push(term(m));
  }
  const q = r.valueQuantity as { value?: number; unit?: string } | undefined;
  if (q?.value !== undefined) out.push(`${q.value} ${q.unit ?? ''}`.trim());
  return out;
}

function itemOf(r: Json): ForeignItem {
  const t = incomingTerms(mainConcept(r));
  return {
    ...(t.dutch !== undefined ? { dutch: t.dutch } : {}),
    original: t.original,
    codes: t.originalCodes.map((c) => codeLabel(c.system, c.code)),
    ...(t.untranslated ? { untranslated: t.untranslated } : {}),
    details: detailsOf(r),
  };
}

function nameOf(p: Patient | undefined): string | undefined {
  const n = p?.name?.[0];
  if (!n) return undefined;
  return n.text ?? [...(n.given ?? []), n.family].filter(Boolean).join(' ');
}

export function foreignSummaryModel(bundle: Bundle): ForeignSummaryModel {
  const resources = (bundle.entry ?? []).map((e) => ({ fullUrl: e.fullUrl, resource: e.resource }));
  const byRef = new Map(resources.filter((e) => e.fullUrl && e.resource).map((e) => [e.fullUrl as string, e.resource as Resource]));
  const composition = resources.map((e) => e.resource).find((r): r is Composition => r?.resourceType === 'Composition');
  const patient = resources.map((e) => e.resource).find((r): r is Patient => r?.resourceType === 'Patient');
  const origin = bundle.meta?.tag?.find((t) => t.system === ORIGIN_TAG_SYSTEM);
  const sections: ForeignSection[] = [];
  for (const s of composition?.section ?? []) {
    const code = s.code?.coding?.find((c) => c.system === 'http://loinc.org')?.code ?? '';
    const items = (s.entry ?? [])
      .map((ref) => (ref.reference ? byRef.get(ref.reference) : undefined))
      .filter((r): r is Resource => r !== undefined)
      .map((r) => itemOf(r as unknown as Json));
    const reason = s.emptyReason?.coding?.find((c) => c.code)?.code;
    const state: ForeignSectionState = items.length
      ? 'items'
      : reason === 'withheld'
        ? 'withheld'
        : reason === 'nilknown'
          ? 'nilknown'
          : reason === 'unavailable' || reason === 'notasked' || reason === 'notstarted'
            ? 'unavailable'
            : 'empty';
    sections.push({ key: SECTION_KEYS[code] ?? 'other', title: s.title ?? code, state, items });
  }
  for (const key of EXPECTED) if (!sections.some((s) => s.key === key)) sections.push({ key, title: key, state: 'not-sent', items: [] });
  // The IPS order; sections the viewer has no name for last, in the order sent.
  const rank = (k: ForeignSectionKey) => (EXPECTED.includes(k) ? EXPECTED.indexOf(k) : EXPECTED.length);
  sections.sort((a, b) => rank(a.key) - rank(b.key));
  return {
    country: origin?.code ?? '?',
    contactPoint: origin?.display ?? origin?.code ?? '?',
    source: bundle.meta?.source,
    received: bundle.meta?.lastUpdated,
    documentDate: composition?.date ?? bundle.timestamp,
    patient: {
      name: nameOf(patient),
      birthDate: patient?.birthDate,
      gender: patient?.gender,
      identifier: patient?.identifier?.[0]?.value,
    },
    sections,
  };
}
