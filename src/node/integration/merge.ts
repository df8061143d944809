import { randomUUID } from 'node:crypto';
import type { Bundle, BundleEntry, OperationOutcome, Patient, Provenance, Reference, Resource } from '@medplum/fhirtypes';
import { CODE_SYSTEM, SYSTEM } from '../../kit/identifiers/systems.ts';
import { type ClinicalGroup, clinicalDate, groupOf, mergeKey, relevanceRank } from './clinical-keys.ts';

// The data-integration function's merge step: many holders' answers become one Bundle about
// one patient. Every item keeps where it came from (an extension naming each holder, plus a
// Provenance), the same fact reported by several holders becomes one item with several sources,
// anything about another patient is dropped with a warning, and every holder that failed,
// timed out or refused gets an OperationOutcome entry saying so.

export const SOURCE_EXTENSION = 'https://ldn.example.nl/fhir/StructureDefinition/source-organization';

export type HolderStatus = 'ok' | 'failed' | 'timeout' | 'refused';

export interface HolderResult {
  ura: string;
  name: string;
  /** FHIR base URL of the holder. */
  endpoint: string;
  status: HolderStatus;
  reason?: string;
  /** Everything the holder returned (Patient and clinical resources). */
  resources: Resource[];
  elapsedMs: number;
}

/**
 * Why an overview may be incomplete, coded (CODE_SYSTEM.overviewOutcome) next to the English
 * diagnostics, so that a portal can say it in its reader's language.
 */
export type OutcomeKind = 'no-holders' | 'holder-timeout' | 'holder-refused' | 'holder-failed' | 'holder-partial' | 'other-patient' | 'foreign-items';

export interface MergeInput {
  bsn: string;
  holders: HolderResult[];
  /** Warnings from before the fan-out: no holder known for this patient. */
  warnings?: string[];
}

export interface MergeStats {
  items: number;
  merged: number;
  dropped: number;
}

const GROUP_ORDER: ClinicalGroup[] = ['allergies', 'alerts', 'medication', 'problems', 'results', 'other'];

interface Item {
  key: string;
  representative: Resource;
  sources: Array<{ holder: HolderResult; resource: Resource }>;
}

type Subjected = Resource & { subject?: Reference; patient?: Reference };

function patientRef(r: Resource): string | undefined {
  const s = r as Subjected;
  return (s.subject ?? s.patient)?.reference;
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

const ISSUE_TYPE: Record<OutcomeKind, 'timeout' | 'forbidden' | 'exception' | 'business-rule' | 'not-found'> = {
  'no-holders': 'not-found',
  'holder-timeout': 'timeout',
  'holder-refused': 'forbidden',
  'holder-failed': 'exception',
  'holder-partial': 'exception',
  'other-patient': 'business-rule',
  'foreign-items': 'business-rule',
};

const STATUS_KIND: Record<Exclude<HolderStatus, 'ok'>, OutcomeKind> = {
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
    let droppedHere = 0;
    for (const r of holder.resources) {
      if (r.resourceType === 'Patient' || r.resourceType === 'OperationOutcome' || r.resourceType === 'Bundle') continue;
      const ref = patientRef(r);
      if (!ref || !ownPatients.has(ref)) {
        droppedHere++;
        continue;
      }
      const key = mergeKey(r) ?? `single:${holder.ura}:${r.resourceType}/${r.id}:${single++}`;
      const item = items.get(key);
      if (item) {
        item.sources.push({ holder, resource: r });
        if (clinicalDate(r) > clinicalDate(item.representative)) item.representative = r;
      } else {
        items.set(key, { key, representative: r, sources: [{ holder, resource: r }] });
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

  const sorted = [...items.values()].sort((a, b) => {
    const g = GROUP_ORDER.indexOf(groupOf(a.representative)) - GROUP_ORDER.indexOf(groupOf(b.representative));
    if (g !== 0) return g;
    const rel = relevanceRank(a.representative) - relevanceRank(b.representative);
    if (rel !== 0) return rel;
    return clinicalDate(b.representative).localeCompare(clinicalDate(a.representative));
  });

  const clinical: BundleEntry[] = [];
  const provenance: BundleEntry[] = [];
  sorted.forEach((item, index) => {
    const first = item.sources[0].holder;
    const id = `item-${index + 1}`;
    const fullUrl = `urn:ldn:overview:${id}`;
    const holders = [...new Map(item.sources.map((s) => [s.holder.ura, s.holder])).values()];
    const resource = {
      ...item.representative,
      id,
      meta: { ...(item.representative.meta ?? {}), source: `${first.endpoint}/${item.representative.resourceType}/${item.representative.id}` },
      extension: [
        ...((item.representative as { extension?: unknown[] }).extension ?? []),
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
      entry: [...patientEntry, ...clinical, ...provenance, ...outcomes],
    },
    stats: { items: sorted.length, merged: mergedCount, dropped },
  };
}
