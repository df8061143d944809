import type { Bundle, BundleEntry, Endpoint, OperationOutcome, Organization, Resource } from '@medplum/fhirtypes';
import { type PartClient, UpstreamError } from '../../kit/http/client.ts';
import { CODE_SYSTEM, SYSTEM } from '../../kit/identifiers/systems.ts';
import { newTrace, type TraceContext } from '../../kit/trace.ts';
import { type HolderResult, mergeOverview } from '../../node/contract.ts';
import { type Holder, ReferralClient } from '../../referral-index/client.ts';
import { exchangeByCode } from '../../trust/agreements/exchanges.ts';
import type { AgreementsDocument, ExchangeDefinition } from '../../trust/agreements/types.ts';
import type { CitizenDataPort, CitizenIdentity } from '../ports.ts';

// "My data" for a logged-in citizen: the portal (the operator's URA, exchange citizen-access)
// localises her holders through the PRS + NVI, addresses each through the national directory,
// asks each holder's node for her data with her own id_token (POST [node]/org/<URA>/citizen/$everything),
// all in parallel under one deadline, and merges the answers as the clinician overview does.
// Holders that fail, refuse or time out become OperationOutcome entries; nothing is invented.

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

/** The citizen's own searches: Patient plus every allow-listed search of the categories the holder registered. */
export function citizenBatch(exchange: ExchangeDefinition, categories: string[], bsn: string): Bundle {
  const patient = encodeURIComponent(`${SYSTEM.bsn}|${bsn}`);
  const urls = new Set<string>();
  for (const q of exchange.queries) {
    if (q.resourceType === 'Patient') urls.add(`Patient?identifier=${patient}`);
    else if (categories.includes(q.dataCategory)) urls.add(`${q.resourceType}?patient:identifier=${patient}`);
  }
  return { resourceType: 'Bundle', type: 'batch', entry: [...urls].map((url): BundleEntry => ({ request: { method: 'GET', url } })) };
}

/** The citizen route of a holder, from its directory endpoint address ([node]/org/<URA>/fhir). */
export function citizenRoute(fhirBase: string): string {
  return `${fhirBase.replace(/\/+$/, '').replace(/\/fhir$/, '')}/citizen/$everything`;
}

function outcomeText(oo: OperationOutcome | undefined, fallback: string): string {
  return oo?.issue?.map((i) => i.diagnostics).filter(Boolean).join('; ') || fallback;
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

  async function askHolder(citizen: CitizenIdentity, exchange: ExchangeDefinition, holder: Holder, deadlineAt: number, trace: TraceContext): Promise<HolderResult> {
    const started = Date.now();
    let name = `URA ${holder.ura}`;
    let endpoint = '';
    const result = (status: HolderResult['status'], reason: string, resources: Resource[] = []): HolderResult => ({
      ura: holder.ura,
      name,
      endpoint,
      status,
      reason,
      resources,
      elapsedMs: Date.now() - started,
    });
    try {
      const a = await address(holder.ura, trace);
      name = a.name;
      if (!a.fhirBase) return result('failed', 'no active endpoint in the care-services directory');
      endpoint = a.fhirBase;
      const remaining = deadlineAt - Date.now();
      if (remaining <= 0) return result('timeout', 'deadline passed before the call');
      const r = await o.client.call<Bundle | OperationOutcome>(citizenRoute(a.fhirBase), {
        method: 'POST',
        body: citizenBatch(exchange, holder.categories, citizen.bsn),
        headers: { authorization: `Bearer ${citizen.idToken}` },
        deadlineMs: remaining,
        retries: 0,
        trace,
        maxResponseBytes: o.maxResponseBytes ?? 10 * 1024 * 1024,
      });
      if (r.status === 401 || r.status === 403) return result('refused', outcomeText(r.body as OperationOutcome, `HTTP ${r.status}`));
      if (r.status !== 200 || (r.body as Bundle)?.resourceType !== 'Bundle') return result('failed', `HTTP ${r.status}: ${outcomeText(r.body as OperationOutcome, 'unexpected answer')}`);
      const resources: Resource[] = [];
      const refusals: string[] = [];
      for (const e of (r.body as Bundle).entry ?? []) {
        if ((e.response?.status ?? '').startsWith('200')) {
          for (const m of (e.resource as Bundle)?.entry ?? []) if (m.resource) resources.push(m.resource);
        } else refusals.push(outcomeText(e.resource as OperationOutcome, `HTTP ${e.response?.status}`));
      }
      const reasons = [...new Set(refusals)].join('; ');
      if (resources.length === 0 && refusals.length > 0) return result('refused', reasons);
      return result('ok', reasons, resources);
    } catch (err) {
      if (err instanceof UpstreamError && err.status === 504) return result('timeout', `no answer within ${deadlineMs} ms`);
      return result('failed', (err as Error).message);
    }
  }

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
    const holders = await Promise.all(located.map((h) => askHolder(citizen, exchange, h, deadlineAt, trace)));
    return mergeOverview({ bsn: citizen.bsn, holders, warnings }).bundle;
  };
}
