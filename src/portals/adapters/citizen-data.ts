import type { Bundle, BundleEntry, Endpoint, OperationOutcome, Organization } from '@medplum/fhirtypes';
import type { PartClient } from '../../kit/http/client.ts';
import { CODE_SYSTEM, SYSTEM } from '../../kit/identifiers/systems.ts';
import { newTrace, type TraceContext } from '../../kit/trace.ts';
import { askHolder, type HolderBatch, type HolderResult, mergeOverview } from '../../node/contract.ts';
import { type Holder, ReferralClient } from '../../referral-index/contract.ts';
import { type AgreementsDocument, exchangeByCode, type ExchangeDefinition } from '../../trust/contract.ts';
import type { CitizenDataPort, CitizenIdentity } from '../ports.ts';

// "My data" for a logged-in citizen: the portal (the operator's URA, exchange citizen-access)
// localises her holders through the PRS + NVI, addresses each through the national directory,
// asks each holder's node for her data with her own id_token (POST [node]/org/<URA>/citizen/$everything),
// all in parallel under one deadline, and merges the answers as the clinician overview does.
// Holders that fail, refuse or time out become OperationOutcome entries; nothing is invented.
// Asking one holder is the data-integration function's own step (node/integration/ask-holder.ts).

export const CITIZEN_EXCHANGE = 'citizen-access';
const DIRECTORY_READ = 'directory:read';
const ADDRESS_CACHE_MS = 60_000;

export interface CitizenDataOptions {
  /** The portal's client: its certificate plus tokens from the trust part (prs:eval, nvi:read, directory:read). */
  client: PartClient;
  nviUrl: string;
  prsUrl: string;
  directoryUrl: string;
  /** URA the portal acts for (the operator's, in its certificate). */
  ura: string;
  agreements(): Promise<AgreementsDocument>;
  /** Fan-out deadline for the holders (ms). */
  deadlineMs?: number;
  maxResponseBytes?: number;
}

export interface Address {
  name: string;
  /** FHIR base of the holder's open interface, [node]/org/<URA>/fhir. */
  fhirBase?: string;
  at: number;
}

/** The citizen's own searches: Patient plus every allow-listed search of the categories the holder registered, each with its categories. */
export function citizenBatch(exchange: ExchangeDefinition, categories: string[], bsn: string): HolderBatch {
  const patient = encodeURIComponent(`${SYSTEM.bsn}|${bsn}`);
  const byUrl = new Map<string, string[]>();
  for (const q of exchange.queries) {
    const url = q.resourceType === 'Patient' ? `Patient?identifier=${patient}` : categories.includes(q.dataCategory) ? `${q.resourceType}?patient:identifier=${patient}` : undefined;
    if (!url) continue;
    const list = byUrl.get(url) ?? [];
    if (!list.includes(q.dataCategory)) list.push(q.dataCategory);
    byUrl.set(url, list);
  }
  const entry = [...byUrl.keys()].map((url): BundleEntry => ({ request: { method: 'GET', url } }));
  return { bundle: { resourceType: 'Bundle', type: 'batch', entry }, categories: [...byUrl.values()] };
}

/** The citizen route of a holder, from its directory endpoint address ([node]/org/<URA>/fhir). */
export function citizenRoute(fhirBase: string): string {
  return `${fhirBase.replace(/\/+$/, '').replace(/\/fhir$/, '')}/citizen/$everything`;
}

function servesExchange(e: Endpoint, code: string): boolean {
  return (e.payloadType ?? []).some((p) => p.coding?.some((c) => c.system === CODE_SYSTEM.exchange && c.code === code));
}

/** Addressing through the national directory (the portal keeps no replica): Organization → Endpoint, kept a minute. */
export function directoryAddressing(o: { client: PartClient; directoryUrl: string; deadlineMs?: number }): (ura: string, trace: TraceContext) => Promise<Address> {
  const addresses = new Map<string, Address>();
  const deadlineMs = o.deadlineMs ?? 5000;
  return async (ura, trace) => {
    const cached = addresses.get(ura);
    if (cached && Date.now() - cached.at < ADDRESS_CACHE_MS) return cached;
    const search = (path: string) => o.client.json<Bundle>(`${o.directoryUrl}/${path}`, { scope: DIRECTORY_READ, trace, deadlineMs });
    const orgs = await search(`Organization?identifier=${encodeURIComponent(`${SYSTEM.ura}|${ura}`)}`);
    const org = orgs.entry?.map((e) => e.resource).find((r): r is Organization => r?.resourceType === 'Organization');
    const ids = (org?.endpoint ?? []).map((r) => /^(?:.*\/)?Endpoint\/([^/]+)$/.exec(r.reference ?? '')?.[1]).filter((x): x is string => !!x);
    let fhirBase: string | undefined;
    if (ids.length > 0) {
      const found = await search(`Endpoint?_id=${ids.map(encodeURIComponent).join(',')}`);
      const active = (found.entry ?? [])
        .map((e) => e.resource)
        .filter((r): r is Endpoint => r?.resourceType === 'Endpoint' && r.status === 'active' && r.connectionType?.code === 'hl7-fhir-rest' && !!r.address);
      fhirBase = (active.find((e) => servesExchange(e, CITIZEN_EXCHANGE)) ?? active[0])?.address;
    }
    const result = { name: org?.name ?? `URA ${ura}`, fhirBase, at: Date.now() };
    addresses.set(ura, result);
    return result;
  };
}

export function httpCitizenData(o: CitizenDataOptions): CitizenDataPort {
  const referrals = new ReferralClient({ client: o.client, nviUrl: o.nviUrl, prsUrl: o.prsUrl, ura: o.ura, sourceClientId: 'portal' });
  const deadlineMs = o.deadlineMs ?? 5000;
  const address = directoryAddressing(o);

  const askOne = (citizen: CitizenIdentity, exchange: ExchangeDefinition, holder: Holder, deadlineAt: number, trace: TraceContext): Promise<HolderResult> =>
    askHolder({
      holder,
      batch: citizenBatch(exchange, holder.categories, citizen.bsn),
      deadlineAt,
      deadlineMs,
      address: async () => {
        const a = await address(holder.ura, trace);
        return { name: a.name, address: a.fhirBase && citizenRoute(a.fhirBase) };
      },
      noAddressReason: 'no active endpoint in the care-services directory',
      send: (route, body, remainingMs) =>
        o.client.call<Bundle | OperationOutcome>(route, {
          method: 'POST',
          body,
          headers: { authorization: `Bearer ${citizen.idToken}` },
          deadlineMs: remainingMs,
          retries: 0,
          trace,
          maxResponseBytes: o.maxResponseBytes ?? 10 * 1024 * 1024,
        }),
    });

  return async (citizen, options = {}) => {
    if (!citizen.idToken) throw new Error('the login carries no id_token to show the holders');
    const trace = options.trace ?? newTrace();
    const exchange = exchangeByCode(await o.agreements(), CITIZEN_EXCHANGE);
    if (!exchange) throw new Error(`the agreements define no ${CITIZEN_EXCHANGE} exchange`);
    // An app asks only within the categories its citizen granted it: other holders are not asked.
    const only = options.categories;
    const located = (await referrals.localise(citizen.bsn, { exchange: CITIZEN_EXCHANGE, trace }))
      .map((h) => (only ? { ...h, categories: h.categories.filter((c) => only.includes(c)) } : h))
      .filter((h) => !only || h.categories.length > 0);
    const warnings = located.length === 0 ? ['the referral index knows no organisation holding data about you'] : [];
    const deadlineAt = Date.now() + deadlineMs;
    const holders = await Promise.all(located.map((h) => askOne(citizen, exchange, h, deadlineAt, trace)));
    return mergeOverview({ bsn: citizen.bsn, holders, warnings }).bundle;
  };
}
