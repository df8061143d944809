import { randomUUID } from 'node:crypto';
import type { Bundle, BundleEntry, Medication, OperationOutcome, Patient, Provenance, Reference, Resource } from '@medplum/fhirtypes';
import { CODE_SYSTEM, SYSTEM } from '../../kit/identifiers/systems.ts';
import { type ClinicalGroup, clinicalDate, groupOf, type MedicationLookup, mergeKey, relevanceRank } from './clinical-keys.ts';
import { supersedesByTreatment } from './treatments.ts';

// The data-integration function's merge step: many holders' answers become one Bundle about
// one patient. Every item keeps where it came from (an extension naming each holder, plus a
// Provenance), the same fact reported by several holders becomes one item with several sources,
// anything about another patient is dropped with a warning, and every holder that failed,
// timed out or refused gets an OperationOutcome entry saying so. A Medication a holder returns
// alongside (by reference, not contained) names the drug of that holder's items only.

export const SOURCE_EXTENSION = 'https://ldn.example.nl/fhir/StructureDefinition/source-organization';

/** `withheld`: the holder released nothing, only on the patient's choice; it is never named. */
export type HolderStatus = 'ok' | 'failed' | 'timeout' | 'refused' | 'withheld';

/** Why a holder did not release a data category it was asked for. */
export interface WithheldCategory {
  category: string;
  /** `consent-unknown`: the holder could not check the patient's choice (deny on error); unnamed like the choice itself. */
  reason: 'patient-objection' | 'no-consent' | 'consent-unknown' | 'policy' | 'failed' | 'timeout';
}

export interface HolderResult {
  ura: string;
  name: string;
  /** FHIR base URL of the holder. */
  endpoint: string;
  status: HolderStatus;
  reason?: string;
  /** Everything the holder returned (Patient and clinical resources). */
  resources: Resource[];
  /** The data categories it was asked for and did not release (absent: none). */
  withheld?: WithheldCategory[];
  elapsedMs: number;
}

/**
 * Why an overview may be incomplete, coded (CODE_SYSTEM.overviewOutcome) next to the English
 * diagnostics, so that a portal can say it in its reader's language.
 */
export type OutcomeKind =
  | 'no-holders'
  | 'holder-timeout'
  | 'holder-refused'
  | 'holder-failed'
  | 'holder-partial'
  | 'other-patient'
  | 'foreign-items'
  | CategoryOutcomeKind;

/** Per data category: withheld on the patient's choice or the policy (`suppressed`), or not answered. */
export type CategoryOutcomeKind =
  | 'withheld-objection'
  | 'withheld-objection-emergency'
  | 'withheld-no-consent'
  | 'withheld-policy'
  | 'category-consent-unknown'
  | 'category-failed'
  | 'category-timeout';

export const CATEGORY_OUTCOMES: ReadonlySet<string> = new Set<CategoryOutcomeKind>([
  'withheld-objection',
  'withheld-objection-emergency',
  'withheld-no-consent',
  'withheld-policy',
  'category-consent-unknown',
  'category-failed',
  'category-timeout',
]);

export interface MergeInput {
  bsn: string;
  holders: HolderResult[];
  /** Warnings from before the fan-out: no holder known for this patient. */
  warnings?: string[];
  /** The request used emergency access: an objection that still holds is said to hold under it. */
  emergency?: boolean;
}

export interface MergeStats {
  items: number;
  merged: number;
  dropped: number;
}

const GROUP_ORDER: ClinicalGroup[] = ['allergies', 'alerts', 'medication', 'problems', 'results', 'other'];

interface Source {
  holder: HolderResult;
  resource: Resource;
  /** The holder's Medication resources, for resolving this resource's medicationReference. */
  medications: MedicationLookup;
}

interface Item {
  key: string;
  /** The source whose resource stands for the item (status, rank, details). */
  representative: Source;
  sources: Source[];
  /** The newest clinical date among all sources, for ordering. */
  latest: string;
}

type Subjected = Resource & { subject?: Reference; patient?: Reference };

function patientRef(r: Resource): string | undefined {
  const s = r as Subjected;
  return (s.subject ?? s.patient)?.reference;
}

/** `Medication/x` from a relative or absolute reference (a version suffix ignored). */
function medicationKey(reference: string): string | undefined {
  return /(?:^|\/)(Medication\/[A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/.exec(reference)?.[1];
}

/**
 * The Medication resources a holder returned alongside its medication data (_include). They
 * carry no patient: they are used only through the references of items that passed the
 * patient check, and only within the same holder's answer.
 */
function medicationsOf(resources: Resource[]): MedicationLookup {
  const byRef = new Map<string, Medication>();
  for (const r of resources) if (r.resourceType === 'Medication' && r.id) byRef.set(`Medication/${r.id}`, r as Medication);
  return (reference) => {
    const key = medicationKey(reference);
    return key ? byRef.get(key) : undefined;
  };
}

type MedicationUser = Resource & { medicationReference?: Reference; contained?: Resource[] };

/** A referenced Medication becomes contained, so that the merged item names its drug on its own. */
function withMedicationContained(r: Resource, medications: MedicationLookup): Resource {
  const user = r as MedicationUser;
  const ref = user.medicationReference?.reference;
  if (!ref || ref.startsWith('#')) return r;
  const med = medications(ref);
  if (!med) return r;
  const taken = new Set((user.contained ?? []).map((c) => c.id));
  let id = 'medication';
  for (let i = 2; taken.has(id); i++) id = `medication-${i}`;
  // A contained resource carries no meta, narrative or nested contained resources (FHIR dom-2, dom-4).
  const { meta: _meta, text: _text, contained: _nested, ...rest } = med;
  return { ...user, contained: [...(user.contained ?? []), { ...rest, id }], medicationReference: { ...user.medicationReference, reference: `#${id}` } } as Resource;
}

/**
 * Which of several holders' reports of the same fact stands for it. For medication the record
 * of use or the prescription (what the patient is meant to take, with its status) over a
 * dispense or administration (a completed event); otherwise, and among equals, the newest.
 */
const REPRESENTATIVE_PREFERENCE: Record<string, number> = {
  MedicationStatement: 0,
  MedicationRequest: 1,
  MedicationAdministration: 2,
  MedicationDispense: 3,
};

function betterRepresentative(candidate: Resource, current: Resource): boolean {
  // A prescriber's newest medication agreement of the treatment stands for it (a stop or change supersedes).
  const byTreatment = supersedesByTreatment(candidate, current);
  if (byTreatment !== undefined) return byTreatment;
  const preference = (REPRESENTATIVE_PREFERENCE[candidate.resourceType] ?? 0) - (REPRESENTATIVE_PREFERENCE[current.resourceType] ?? 0);
  if (preference !== 0) return preference < 0;
  return clinicalDate(candidate) > clinicalDate(current);
}

function hasBsn(p: Patient, bsn: string): boolean {
  return (p.identifier ?? []).some((i) => i.system === SYSTEM.bsn && i.value === bsn);
}

function outcomeEntry(severity: 'error' | 'warning', kind: OutcomeKind, text: string, holder?: { ura: string; name: string }): BundleEntry {
  const coding = [{ system: CODE_SYSTEM.overviewOutcome, code: kind }, ...(holder ? [{ system: SYSTEM.ura, code: holder.ura }] : [])];
  const oo: OperationOutcome = {
    resourceType: 'OperationOutcome',
    issue: [{ severity, code: ISSUE_TYPE[kind], diagnostics: text, details: { coding, ...(holder ? { text: holder.name } : {}) } }],
  };
  return { fullUrl: `urn:uuid:${randomUUID()}`, resource: oo };
}

const ISSUE_TYPE: Record<OutcomeKind, 'timeout' | 'forbidden' | 'exception' | 'business-rule' | 'not-found' | 'suppressed' | 'incomplete'> = {
  'withheld-objection': 'suppressed',
  'withheld-objection-emergency': 'suppressed',
  'withheld-no-consent': 'suppressed',
  'withheld-policy': 'suppressed',
  'category-consent-unknown': 'incomplete',
  'category-failed': 'incomplete',
  'category-timeout': 'timeout',
  'no-holders': 'not-found',
  'holder-timeout': 'timeout',
  'holder-refused': 'forbidden',
  'holder-failed': 'exception',
  'holder-partial': 'exception',
  'other-patient': 'business-rule',
  'foreign-items': 'business-rule',
};

const CATEGORY_TEXT: Record<CategoryOutcomeKind, string> = {
  'withheld-objection': 'not shared at the patient\'s request',
  'withheld-objection-emergency': 'not shared at the patient\'s request; the objection holds under emergency access too',
  'withheld-no-consent': 'not shared: the patient has not given the consent this exchange needs',
  'withheld-policy': 'not shared under the agreements of this exchange',
  'category-consent-unknown': "not answered: the patient's consent could not be checked",
  'category-failed': 'not answered: the holder failed',
  'category-timeout': 'not answered within the deadline',
};

/** Outcomes that follow (or may hide) the patient's choice: they never name a holder. */
const UNNAMED_KINDS: ReadonlySet<CategoryOutcomeKind> = new Set(['withheld-objection', 'withheld-objection-emergency', 'withheld-no-consent', 'category-consent-unknown']);

function categoryKind(reason: WithheldCategory['reason'], emergency: boolean): CategoryOutcomeKind {
  switch (reason) {
    case 'patient-objection':
      return emergency ? 'withheld-objection-emergency' : 'withheld-objection';
    case 'no-consent':
      return 'withheld-no-consent';
    case 'policy':
      return 'withheld-policy';
    case 'consent-unknown':
      return 'category-consent-unknown';
    case 'timeout':
      return 'category-timeout';
    default:
      return 'category-failed';
  }
}

/**
 * One OperationOutcome per data category and reason. The patient's choice names no holder (a
 * holder that refused on it must not be revealed); policy and failures name the holders.
 */
function categoryOutcomes(holders: HolderResult[], emergency: boolean): BundleEntry[] {
  const byKey = new Map<string, { category: string; kind: CategoryOutcomeKind; holders: Map<string, string> }>();
  for (const h of holders) {
    for (const w of h.withheld ?? []) {
      const kind = categoryKind(w.reason, emergency);
      const key = `${w.category}|${kind}`;
      const entry = byKey.get(key) ?? { category: w.category, kind, holders: new Map<string, string>() };
      if (!UNNAMED_KINDS.has(kind)) entry.holders.set(h.ura, h.name);
      byKey.set(key, entry);
    }
  }
  return [...byKey.values()].map(({ category, kind, holders: named }) => {
    const names = [...named.values()];
    const oo: OperationOutcome = {
      resourceType: 'OperationOutcome',
      issue: [
        {
          severity: kind.startsWith('category-') ? 'error' : 'warning',
          code: ISSUE_TYPE[kind],
          diagnostics: `${category}: ${CATEGORY_TEXT[kind]}${names.length ? ` (${names.join(', ')})` : ''}`,
          details: {
            coding: [
              { system: CODE_SYSTEM.overviewOutcome, code: kind },
              { system: CODE_SYSTEM.dataCategories, code: category },
              ...[...named.keys()].map((ura) => ({ system: SYSTEM.ura, code: ura })),
            ],
            ...(names.length ? { text: names.join(', ') } : {}),
          },
        },
      ],
    };
    return { fullUrl: `urn:uuid:${randomUUID()}`, resource: oo };
  });
}

const STATUS_KIND: Record<Exclude<HolderStatus, 'ok' | 'withheld'>, OutcomeKind> = {
  timeout: 'holder-timeout',
  refused: 'holder-refused',
  failed: 'holder-failed',
};

export function mergeOverview(input: MergeInput): { bundle: Bundle; stats: MergeStats } {
  const outcomes: BundleEntry[] = (input.warnings ?? []).map((w) => outcomeEntry('warning', 'no-holders', w));
  const items = new Map<string, Item>();
  let patient: Patient | undefined;
  let dropped = 0;
  let single = 0;

  for (const holder of input.holders) {
    // Withheld on the patient's choice only: said per category below, the holder unnamed.
    if (holder.status === 'withheld') continue;
    if (holder.status !== 'ok') {
      outcomes.push(
        outcomeEntry('error', STATUS_KIND[holder.status], `${holder.name} (URA ${holder.ura}): ${holder.reason ?? holder.status}`, holder),
      );
      continue;
    }
    if (holder.reason) {
      outcomes.push(outcomeEntry('warning', 'holder-partial', `${holder.name} (URA ${holder.ura}) answered in part: ${holder.reason}`, holder));
    }
    // Only the holder's Patient resources that carry the requested BSN anchor its data.
    const ownPatients = new Set<string>();
    for (const r of holder.resources) {
      if (r.resourceType !== 'Patient') continue;
      if (hasBsn(r as Patient, input.bsn)) {
        ownPatients.add(`Patient/${r.id}`);
        patient ??= r as Patient;
      } else {
        dropped++;
        outcomes.push(outcomeEntry('warning', 'other-patient', `${holder.name} returned a different patient; it was dropped`, holder));
      }
    }
    const medications = medicationsOf(holder.resources);
    let droppedHere = 0;
    for (const r of holder.resources) {
      // Medication resources are not items: they name the drug of the items that reference them.
      if (r.resourceType === 'Patient' || r.resourceType === 'Medication' || r.resourceType === 'OperationOutcome' || r.resourceType === 'Bundle') continue;
      const ref = patientRef(r);
      if (!ref || !ownPatients.has(ref)) {
        droppedHere++;
        continue;
      }
      const source: Source = { holder, resource: r, medications };
      const key = mergeKey(r, medications) ?? `single:${holder.ura}:${r.resourceType}/${r.id}:${single++}`;
      const item = items.get(key);
      const date = clinicalDate(r);
      if (item) {
        item.sources.push(source);
        if (betterRepresentative(r, item.representative.resource)) item.representative = source;
        if (date > item.latest) item.latest = date;
      } else {
        items.set(key, { key, representative: source, sources: [source], latest: date });
      }
    }
    if (droppedHere > 0) {
      dropped += droppedHere;
      outcomes.push(
        outcomeEntry('warning', 'foreign-items', `${holder.name}: ${droppedHere} item(s) not about the requested patient were dropped`, holder),
      );
    }
  }

  const patientEntry: BundleEntry[] = [];
  const patientUrl = 'urn:ldn:overview:patient';
  if (patient) {
    const merged: Patient = { ...patient, id: 'patient', meta: undefined };
    patientEntry.push({ fullUrl: patientUrl, resource: merged });
  }

  // Group, then the representative's status and criticality, then the newest report of any source.
  const sorted = [...items.values()].sort((a, b) => {
    const g = GROUP_ORDER.indexOf(groupOf(a.representative.resource)) - GROUP_ORDER.indexOf(groupOf(b.representative.resource));
    if (g !== 0) return g;
    const rel = relevanceRank(a.representative.resource) - relevanceRank(b.representative.resource);
    if (rel !== 0) return rel;
    return b.latest.localeCompare(a.latest);
  });

  const clinical: BundleEntry[] = [];
  const provenance: BundleEntry[] = [];
  sorted.forEach((item, index) => {
    const { holder: origin, resource: original, medications } = item.representative;
    const representative = withMedicationContained(original, medications);
    const id = `item-${index + 1}`;
    const fullUrl = `urn:ldn:overview:${id}`;
    const holders = [...new Map(item.sources.map((s) => [s.holder.ura, s.holder])).values()];
    const resource = {
      ...representative,
      id,
      meta: { ...(representative.meta ?? {}), source: `${origin.endpoint}/${original.resourceType}/${original.id}` },
      extension: [
        ...((representative as { extension?: unknown[] }).extension ?? []),
        ...holders.map((h) => ({
          url: SOURCE_EXTENSION,
          valueReference: { identifier: { system: SYSTEM.ura, value: h.ura }, display: h.name },
        })),
      ],
    } as Subjected;
    if (resource.subject) resource.subject = { reference: patientUrl };
    if (resource.patient) resource.patient = { reference: patientUrl };
    clinical.push({ fullUrl, resource });
    const prov: Provenance = {
      resourceType: 'Provenance',
      target: [{ reference: fullUrl }],
      recorded: new Date().toISOString(),
      agent: holders.map((h) => ({
        type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/provenance-participant-type', code: 'custodian' }] },
        who: { identifier: { system: SYSTEM.ura, value: h.ura }, display: h.name },
      })),
      entity: item.sources.map((s) => ({
        role: 'source' as const,
        what: { reference: `${s.holder.endpoint}/${s.resource.resourceType}/${s.resource.id}`, display: s.holder.name },
      })),
    };
    provenance.push({ fullUrl: `urn:ldn:overview:provenance-${index + 1}`, resource: prov });
  });

  const mergedCount = sorted.filter((i) => i.sources.length > 1).length;
  return {
    bundle: {
      resourceType: 'Bundle',
      type: 'collection',
      timestamp: new Date().toISOString(),
      entry: [...patientEntry, ...clinical, ...provenance, ...outcomes, ...categoryOutcomes(input.holders, input.emergency ?? false)],
    },
    stats: { items: sorted.length, merged: mergedCount, dropped },
  };
}
