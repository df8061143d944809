import type { Bundle, CodeableConcept, OperationOutcome, Patient, Resource } from '@medplum/fhirtypes';
import { type ClinicalGroup, clinicalDate, groupOf, medicationCode } from '../../node/contract.ts';
import { CODE_SYSTEM } from '../../kit/identifiers/systems.ts';
import { isPatientReported } from '../../kit/fhir/patient-reported.ts';
import type { Lang } from '../ui/i18n.ts';
import { formatQuantity, formatRange, type QuantityLike } from '../ui/units.ts';
import { CATEGORY_OUTCOMES, type CategoryOutcomeKind, type OutcomeKind, SOURCE_EXTENSION } from '../../node/contract.ts';

// The merged overview Bundle as the viewer shows it: groups in clinical order (allergies first),
// one line per item with every source organisation and the item's date, and the holders that
// failed or refused. The Bundle's order within a group (the merge's relevance order) is kept.

export const GROUP_ORDER: ClinicalGroup[] = ['allergies', 'alerts', 'medication', 'problems', 'results', 'other'];

export interface OverviewItem {
  label: string;
  details: string[];
  date: string;
  sources: string[];
  highRisk: boolean;
  /** Sent by the patient from her own app: shown as such, never as measured in care. */
  patientReported: boolean;
}

export interface SourceProblem {
  severity: 'error' | 'warning';
  /** The merge's coded reason, when present: the page words it in the reader's language. */
  kind?: OutcomeKind;
  /** The holder's name, for the worded reason. */
  holder?: string;
  /** The English diagnostics, shown only when there is no coded reason. */
  text: string;
}

/** Why a data category is missing from a section: withheld (patient's choice, policy) or not answered. */
export interface SectionNote {
  kind: CategoryOutcomeKind;
  /** Holders named for policy and failures; never for the patient's choice. */
  holders?: string;
}

/** The section of the viewer a GF data category belongs to ('patient': the banner). */
const CATEGORY_SECTION: Record<string, ClinicalGroup | 'patient' | 'images'> = {
  Patient: 'patient',
  Imaging: 'images',
  AllergyIntolerance: 'allergies',
  Alert: 'alerts',
  MedicationUse: 'medication',
  MedicationRequest: 'medication',
  Condition: 'problems',
  ObservationVitalSigns: 'results',
  ObservationLaboratory: 'results',
  DiagnosticReport: 'results',
};

export function sectionOfCategory(category: string): ClinicalGroup | 'patient' | 'images' {
  return CATEGORY_SECTION[category] ?? 'other';
}

export interface OverviewModel {
  patient?: { name: string; birthDate?: string; gender?: string };
  groups: Array<{ group: ClinicalGroup; items: OverviewItem[]; notes: SectionNote[] }>;
  /** Notes about the patient's own record (a general objection withholds it too). */
  patientNotes: SectionNote[];
  /** Notes for the images section (drawn by extra-sections.ts when the exchange covers images). */
  imagingNotes: SectionNote[];
  problems: SourceProblem[];
}

export function conceptText(cc: CodeableConcept | undefined): string | undefined {
  if (!cc) return undefined;
  return cc.text ?? cc.coding?.find((c) => c.display)?.display ?? cc.coding?.find((c) => c.code)?.code;
}

function patientName(p: Patient): string {
  const n = p.name?.[0];
  if (!n) return '';
  if (n.text) return n.text;
  return [...(n.given ?? []), n.family].filter(Boolean).join(' ');
}

type Any = Record<string, unknown>;

/** How numbers, units and result flags are shown: the reader's language (Dutch by default). */
export interface DisplayOptions {
  lang: Lang;
  /** An interpretation code (H, L, N, HH, LL, A…) spelled out; undefined: the source's own text. */
  interpretation?: (code: string) => string | undefined;
  /** A resource type as readers call it (Immunization → vaccinatie), for items without a name of their own. */
  kind?: (resourceType: string) => string | undefined;
}

const DUTCH: DisplayOptions = { lang: 'nl' };

function quantity(v: unknown, display: DisplayOptions): string | undefined {
  return formatQuantity(v as QuantityLike | undefined, display.lang);
}

function interpretationText(list: CodeableConcept[] | undefined, display: DisplayOptions): string | undefined {
  const cc = list?.[0];
  const code = cc?.coding?.find((c) => c.code)?.code;
  return (code && display.interpretation?.(code)) ?? conceptText(cc);
}

function labelOf(r: Resource, display: DisplayOptions): string {
  const a = r as unknown as Any;
  const kind = display.kind?.(r.resourceType) ?? r.resourceType;
  if (groupOf(r) === 'medication') return conceptText(medicationCode(r as never)) ?? kind;
  // A vaccination is named by its vaccine; an encounter by its type; an ImagingStudy has no code:
  // its description names it ("CT hersenen blanco").
  const own = conceptText((a.code ?? a.vaccineCode ?? (a.type as CodeableConcept[] | undefined)?.[0]) as CodeableConcept | undefined);
  if (own) return r.resourceType === 'Immunization' || r.resourceType === 'Encounter' ? `${kind}: ${own}` : own;
  return typeof a.description === 'string' ? a.description : kind;
}

/** Status words in the reader's language; the source's own text when the code is not one we know. */
export type StatusWording = (code: string) => string | undefined;

function statusOf(a: Any, wording?: StatusWording): string | undefined {
  const clinical = a.clinicalStatus as CodeableConcept | undefined;
  const code = clinical?.coding?.find((c) => c.code)?.code ?? (typeof a.status === 'string' ? a.status : undefined);
  return (code && wording?.(code)) ?? conceptText(clinical) ?? code;
}

function detailsOf(r: Resource, wording: StatusWording | undefined, display: DisplayOptions): string[] {
  const a = r as unknown as Any;
  const out: string[] = [];
  const status = statusOf(a, wording);
  switch (groupOf(r)) {
    case 'allergies': {
      const reactions = (a.reaction as Array<{ manifestation?: CodeableConcept[] }> | undefined) ?? [];
      for (const m of reactions.flatMap((x) => x.manifestation ?? [])) {
        const t = conceptText(m);
        if (t) out.push(t);
      }
      break;
    }
    case 'medication': {
      const dosage = (a.dosage ?? a.dosageInstruction) as Array<{ text?: string }> | undefined;
      for (const d of dosage ?? []) if (d.text) out.push(d.text);
      break;
    }
    case 'results': {
      // A panel (blood pressure) carries its values in components: "135 mmHg / 85 mmHg".
      const components = ((a.component as Array<Any> | undefined) ?? [])
        .map((c) => quantity(c.valueQuantity, display) ?? conceptText(c.valueCodeableConcept as CodeableConcept))
        .filter(Boolean);
      const value =
        quantity(a.valueQuantity, display) ??
        conceptText(a.valueCodeableConcept as CodeableConcept) ??
        (a.valueString as string | undefined) ??
        (components.length ? components.join(' / ') : undefined);
      if (value) out.push(value);
      const interp = interpretationText(a.interpretation as CodeableConcept[] | undefined, display);
      if (interp) out.push(interp);
      const range = formatRange((a.referenceRange as Array<Parameters<typeof formatRange>[0]> | undefined)?.[0], display.lang);
      if (range) out.push(`ref. ${range}`);
      break;
    }
  }
  if (status) out.push(status);
  return out;
}

function sourcesOf(r: Resource): string[] {
  const ext = ((r as unknown as Any).extension as Array<{ url?: string; valueReference?: { display?: string; identifier?: { value?: string } } }>) ?? [];
  return ext
    .filter((e) => e.url === SOURCE_EXTENSION)
    .map((e) => e.valueReference?.display ?? e.valueReference?.identifier?.value ?? '')
    .filter(Boolean);
}

export function overviewModel(bundle: Bundle, wording?: StatusWording, display: DisplayOptions = DUTCH): OverviewModel {
  const byGroup = new Map<ClinicalGroup, OverviewItem[]>();
  const problems: SourceProblem[] = [];
  const notes = new Map<ClinicalGroup | 'patient' | 'images', SectionNote[]>();
  const addNote = (section: ClinicalGroup | 'patient' | 'images', note: SectionNote) => {
    const list = notes.get(section) ?? [];
    // One note per reason and holders in a section (vital signs and lab results share one).
    if (!list.some((n) => n.kind === note.kind && n.holders === note.holders)) list.push(note);
    notes.set(section, list);
  };
  let patient: OverviewModel['patient'];
  for (const entry of bundle.entry ?? []) {
    const r = entry.resource;
    if (!r) continue;
    if (r.resourceType === 'Patient') {
      const p = r as Patient;
      patient ??= { name: patientName(p), birthDate: p.birthDate, gender: p.gender };
      continue;
    }
    if (r.resourceType === 'OperationOutcome') {
      for (const issue of (r as OperationOutcome).issue ?? []) {
        if (issue.severity !== 'error' && issue.severity !== 'fatal' && issue.severity !== 'warning') continue;
        const kind = issue.details?.coding?.find((c) => c.system === CODE_SYSTEM.overviewOutcome)?.code as OutcomeKind | undefined;
        const category = issue.details?.coding?.find((c) => c.system === CODE_SYSTEM.dataCategories)?.code;
        if (kind && category && CATEGORY_OUTCOMES.has(kind)) {
          addNote(sectionOfCategory(category), { kind: kind as CategoryOutcomeKind, ...(issue.details?.text ? { holders: issue.details.text } : {}) });
          continue;
        }
        problems.push({
          severity: issue.severity === 'warning' ? 'warning' : 'error',
          kind,
          holder: kind ? issue.details?.text : undefined,
          text: issue.diagnostics ?? conceptText(issue.details) ?? issue.code,
        });
      }
      continue;
    }
    if (r.resourceType === 'Provenance' || r.resourceType === 'Bundle') continue;
    const group = groupOf(r);
    const item: OverviewItem = {
      label: labelOf(r, display),
      details: detailsOf(r, wording, display),
      date: clinicalDate(r),
      sources: sourcesOf(r),
      highRisk: (r as unknown as Any).criticality === 'high',
      patientReported: isPatientReported(r),
    };
    const list = byGroup.get(group) ?? [];
    list.push(item);
    byGroup.set(group, list);
  }
  // Errors (a holder failed or refused) before warnings.
  problems.sort((a, b) => (a.severity === b.severity ? 0 : a.severity === 'error' ? -1 : 1));
  return {
    patient,
    groups: GROUP_ORDER.map((group) => ({ group, items: byGroup.get(group) ?? [], notes: notes.get(group) ?? [] })),
    patientNotes: notes.get('patient') ?? [],
    imagingNotes: notes.get('images') ?? [],
    problems,
  };
}
