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
}

export function openOrders(overview: Bundle): OpenOrder[] {
  const out: OpenOrder[] = [];
  for (const e of overview.entry ?? []) {
    const r = e.resource;
    if (r?.resourceType !== 'MedicationRequest' || r.status !== 'active' || (r.intent && r.intent !== 'order')) continue;
    const m = /^(https:\/\/[^\s]+\/org\/(\d{8})\/fhir)\/MedicationRequest\/([A-Za-z0-9\-.]{1,64})$/.exec(r.meta?.source ?? '');
    if (!m) continue;
    const [, holderFhirBase, ura, id] = m;
    const handle = `${ura}.${id}`;
    const { meta: _meta, ...rest } = r;
    out.push({ order: { ...rest, id: handle, identifier: [...(r.identifier ?? []), { system: EPRESCRIPTION_HANDLE_SYSTEM, value: handle }] }, handle, holderFhirBase, id });
  }
  return out;
}

/** The order with its codes also in the foreign side's value sets (the summary's transcoding, on a one-entry document). */
export function transcodeOrder(order: MedicationRequest, country: string): MedicationRequest {
  const doc = transcodeSummary({ resourceType: 'Bundle', type: 'collection', entry: [{ resource: order }] }, { country, language: 'en' });
  const translated = doc.entry?.find((e) => e.resource?.resourceType === 'MedicationRequest')?.resource as MedicationRequest | undefined;
  return translated ?? order;
}
