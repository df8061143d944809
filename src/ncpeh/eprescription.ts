import type { Bundle, MedicationRequest } from '@medplum/fhirtypes';
import { transcodeSummary } from './terms/index.ts';

// ePrescription as the contact point serves it: the patient's open prescriptions (active
// medication orders) from the overview its node assembled, each with a handle the foreign
// pharmacy quotes back when it dispenses, and the holder that prescribed it (from the overview's
// provenance: meta.source is that holder's FHIR base plus the order's own id).

export const EPRESCRIPTION_HANDLE_SYSTEM = 'https://ldn.example.nl/fhir/NamingSystem/ncpeh-eprescription';

export interface OpenOrder {
  order: MedicationRequest;
  /** What the foreign pharmacy quotes back: "<prescriber URA>.<order id>". */
  handle: string;
  /** The prescriber's FHIR base on its node, https://…/org/<URA>/fhir. */
  holderFhirBase: string;
  /** The order's id at the prescriber. */
  id: string;
  /** Every holder's copy the overview merged into this item (the same order seen twice): any may be quoted. */
  sources: Array<{ handle: string; holderFhirBase: string; id: string }>;
}

const SOURCE = /^(https:\/\/[^\s]+\/org\/(\d{8})\/fhir)\/MedicationRequest\/([A-Za-z0-9\-.]{1,64})$/;

function sourceOf(reference: string | undefined): { handle: string; holderFhirBase: string; id: string } | undefined {
  const m = SOURCE.exec(reference ?? '');
  return m ? { handle: `${m[2]}.${m[3]}`, holderFhirBase: m[1], id: m[3] } : undefined;
}

export function openOrders(overview: Bundle): OpenOrder[] {
  // The overview's Provenance names every holder copy of an item; which copy stands for it may
  // differ from one overview to the next, so a handle is checked against all of them.
  const provenance = new Map<string, string[]>();
  for (const e of overview.entry ?? []) {
    if (e.resource?.resourceType !== 'Provenance') continue;
    const refs = (e.resource.entity ?? []).map((x) => x.what?.reference).filter((r): r is string => typeof r === 'string');
    for (const t of e.resource.target ?? []) if (t.reference) provenance.set(t.reference, refs);
  }
  const out: OpenOrder[] = [];
  for (const e of overview.entry ?? []) {
    const r = e.resource;
    if (r?.resourceType !== 'MedicationRequest' || r.status !== 'active' || (r.intent && r.intent !== 'order')) continue;
    const sources = [r.meta?.source, ...(provenance.get(e.fullUrl ?? '') ?? [])]
      .map(sourceOf)
      .filter((x): x is { handle: string; holderFhirBase: string; id: string } => x !== undefined);
    const unique = [...new Map(sources.map((x) => [x.handle, x])).values()];
    const first = unique[0];
    if (!first) continue;
    const { meta: _meta, ...rest } = r;
    out.push({ order: { ...rest, id: first.handle, identifier: [...(r.identifier ?? []), { system: EPRESCRIPTION_HANDLE_SYSTEM, value: first.handle }] }, ...first, sources: unique });
  }
  return out;
}

/** The open order and holder copy a quoted handle names, or undefined. */
export function findOrder(open: OpenOrder[], handle: unknown): { order: OpenOrder; source: OpenOrder['sources'][number] } | undefined {
  if (typeof handle !== 'string') return undefined;
  for (const order of open) {
    const source = order.sources.find((x) => x.handle === handle);
    if (source) return { order, source };
  }
  return undefined;
}

/** The order with its codes also in the foreign side's value sets (the summary's transcoding, on a one-entry document). */
export function transcodeOrder(order: MedicationRequest, country: string): MedicationRequest {
  const doc = transcodeSummary({ resourceType: 'Bundle', type: 'collection', entry: [{ resource: order }] }, { country, language: 'en' });
  const translated = doc.entry?.find((e) => e.resource?.resourceType === 'MedicationRequest')?.resource as MedicationRequest | undefined;
  return translated ?? order;
}
