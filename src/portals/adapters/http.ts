import type { AuditEvent, AuditEventAgent, Bundle, Consent } from '@medplum/fhirtypes';
import type { JWK } from 'jose';
import { AUDIT_EXTENSION, AUDIT_SYSTEM, type InclusionProof, PATIENT_TOKEN_PARAM, type SignedTreeHead } from '../../audit/contract.ts';
import { consentResource, parseConsent } from '../../consent/contract.ts';
import type { PartClient } from '../../kit/http/client.ts';
import { UZI_ROLES } from '../../kit/identifiers/roles.ts';
import { CODE_SYSTEM, SYSTEM } from '../../kit/identifiers/systems.ts';
import { type AgreementsDocument, type ConsentMode, fetchAgreements, type Participant, type ParticipantStatus } from '../../trust/contract.ts';
import type { LoggedAccess } from '../citizen/access-rows.ts';
import { PERMIT_DETAIL_RESEARCH_ORGANISATION, PERMIT_IDENTIFIER_SYSTEM } from '../../secondary-use/contract.ts';
import type {
  AccessEntry,
  AccessLogPort,
  CertificateInfo,
  CitizenIdentity,
  ConsentChoice,
  ConsentPort,
  ExchangeStat,
  NetworkMonitorPort,
  PartHealth,
  TrustOperatorPort,
} from '../ports.ts';

// HTTP adapters for the portal's ports over the kit's PartClient (the portal's own network
// certificate for mTLS). At the consent part the citizen's id_token from the citizen identity
// provider rides as the Bearer token (the part trusts the token, not us); the transparency part
// answers the portal's certificate for a citizen named by a PRS token.

/** The citizen's bearer token for the consent part (default: her id_token). */
export type CitizenToken = (citizen: CitizenIdentity) => string | undefined;
const defaultCitizenToken: CitizenToken = (c) => c.idToken ?? c.accessToken;

function bearer(token: CitizenToken, citizen: CitizenIdentity): Record<string, string> {
  const t = token(citizen);
  if (!t) throw new Error('no citizen token in the session; log in again');
  return { authorization: `Bearer ${t}` };
}

// ---- consent part (src/consent/part.ts) ----

export function httpConsent(options: { client: PartClient; consentUrl: string; mode: () => Promise<ConsentMode>; citizenToken?: CitizenToken }): ConsentPort {
  const token = options.citizenToken ?? defaultCitizenToken;
  const toChoice = (c: Consent): ConsentChoice => ({
    ...parseConsent(c),
    id: c.id ?? '',
    version: Number(c.meta?.versionId ?? 1),
    recordedAt: c.meta?.lastUpdated,
  });
  return {
    mode: options.mode,
    async list(citizen) {
      const q = new URLSearchParams({ patient: `${SYSTEM.bsn}|${citizen.bsn}` });
      const bundle = await options.client.json<Bundle>(`${options.consentUrl}/Consent?${q}`, { headers: bearer(token, citizen) });
      return (bundle.entry ?? []).map((e) => e.resource).filter((r): r is Consent => r?.resourceType === 'Consent').map(toChoice);
    },
    async create(citizen, choice) {
      const c = await options.client.json<Consent>(`${options.consentUrl}/Consent`, { method: 'POST', body: consentResource(choice), headers: bearer(token, citizen) });
      return toChoice(c);
    },
    async update(citizen, id, ifVersion, choice) {
      const c = await options.client.json<Consent>(`${options.consentUrl}/Consent/${encodeURIComponent(id)}`, {
        method: 'PUT',
        body: { ...consentResource(choice), id },
        headers: { ...bearer(token, citizen), 'if-match': `W/"${ifVersion}"` },
      });
      return toChoice(c);
    },
  };
}

// ---- transparency part (src/audit/transparency/part.ts) ----

/** Reads the transparency part's reduced citizen AuditEvent (and its proof link) back into what the page shows. */
export function accessEntryOf(e: AuditEvent, proofUrl?: string): LoggedAccess {
  const codings = e.purposeOfEvent?.flatMap((p) => p.coding ?? []) ?? [];
  const typeCode = (a: AuditEventAgent) => a.type?.coding?.[0]?.code;
  const hasUra = (a: AuditEventAgent) => a.who?.identifier?.system === SYSTEM.ura;
  // The organisation whose event it is (typed performer; older parts sent it untyped and first);
  // the other side is the network agent (DICOM source/destination) that names a URA.
  const org = e.agent?.find((a) => hasUra(a) && typeCode(a) === 'PRF') ?? e.agent?.find((a) => hasUra(a) && !a.type);
  const other = e.agent?.find((a) => hasUra(a) && (typeCode(a) === '110153' || typeCode(a) === '110152'));
  // The professional by her role; without one, the citizen's app named as the requestor.
  const professional =
    e.agent?.find((a) => a.role?.some((r) => r.coding?.some((c) => c.system === SYSTEM.uziRole))) ??
    e.agent?.find((a) => a.requestor && !hasUra(a) && !!a.who?.display);
  const roleCode = professional?.role?.flatMap((r) => r.coding ?? []).find((c) => c.system === SYSTEM.uziRole)?.code;
  const domain =
    e.entity?.find((x) => x.role?.code === '4' && x.what?.identifier?.system !== AUDIT_SYSTEM.accessGroup) ??
    e.entity?.find((x) => x.what?.identifier?.system === CODE_SYSTEM.exchange || (x.securityLabel?.length ?? 0) > 0);
  const side = domain?.detail?.find((d) => d.type === 'side')?.valueString;
  const leafIndex = e.extension?.find((x) => x.url === AUDIT_EXTENSION.leafIndex)?.valueInteger;
  return {
    eventId: e.id ?? '',
    when: e.recorded ?? '',
    organizationUra: org?.who?.identifier?.value ?? '',
    organizationName: org?.who?.display,
    roleCode,
    roleName: roleCode ? UZI_ROLES[roleCode] : undefined,
    professionalName: professional?.who?.display,
    exchange: domain?.what?.identifier?.value,
    dataCategories: (domain?.securityLabel ?? []).map((s) => s.code ?? '').filter(Boolean),
    emergency: codings.some((c) => c.code === 'BTG'),
    emergencyReason: e.extension?.find((x) => x.url === AUDIT_EXTENSION.emergencyReason)?.valueString,
    refused: e.outcome !== undefined && e.outcome !== '0',
    leafIndex: Number.isSafeInteger(leafIndex) && (leafIndex as number) >= 0 ? leafIndex : undefined,
    proofUrl,
    side: side === 'holder' || side === 'requester' ? side : undefined,
    otherPartyUra: other?.who?.identifier?.value,
    otherPartyName: other?.who?.display,
    accessGroup: e.entity?.find((x) => x.what?.identifier?.system === AUDIT_SYSTEM.accessGroup)?.what?.identifier?.value,
    research: researchOf(e),
  };
}

/** The data permit a holder's export of the citizen was for (secondary-use contract), if any. */
function researchOf(e: AuditEvent): LoggedAccess['research'] {
  const permit = e.entity?.find((x) => x.what?.identifier?.system === PERMIT_IDENTIFIER_SYSTEM);
  const permitId = permit?.what?.identifier?.value;
  if (!permitId) return undefined;
  const detail = (type: string) => permit.detail?.find((d) => d.type === type)?.valueString;
  return {
    permitId,
    purpose: permit.description,
    organisationUra: detail(PERMIT_DETAIL_RESEARCH_ORGANISATION),
    organisationName: detail(`${PERMIT_DETAIL_RESEARCH_ORGANISATION}-name`),
  };
}

/** The proof URL for `size`: the log's own link when it points into the log, else the id path. */
export function inclusionProofUrl(transparencyUrl: string, entry: AccessEntry, treeSize: number): string {
  const base = new URL(`${transparencyUrl.replace(/\/+$/, '')}/proof/inclusion`);
  let url: URL | undefined;
  try {
    url = entry.proofUrl ? new URL(entry.proofUrl) : undefined;
  } catch {
    url = undefined;
  }
  // Never follow a link elsewhere with the portal's certificate.
  if (!url || url.origin !== base.origin || url.pathname !== base.pathname) {
    url = new URL(base);
    url.searchParams.set('id', entry.eventId);
  }
  url.searchParams.set('size', String(treeSize));
  return url.href;
}

/**
 * The citizen view of the transparency part. Only the portal's certificate is answered, and the
 * citizen is named by a fresh PRS token addressed to the part (`patientToken`, from her BSN):
 * the part never sees a BSN and the portal never holds a stable pseudonym.
 */
export function httpAccessLog(options: {
  client: PartClient;
  transparencyUrl: string;
  patientToken: (citizen: CitizenIdentity) => Promise<string>;
  maxEntries?: number;
}): AccessLogPort {
  const base = options.transparencyUrl.replace(/\/+$/, '');
  return {
    async accesses(citizen) {
      const q = new URLSearchParams({ [PATIENT_TOKEN_PARAM]: await options.patientToken(citizen), _count: String(options.maxEntries ?? 100) });
      // Single-use token in the query: no retry (a retry would replay it).
      const bundle = await options.client.json<Bundle>(`${base}/AuditEvent?${q}`, { retries: 0 });
      return (bundle.entry ?? [])
        .filter((x) => x.resource?.resourceType === 'AuditEvent')
        .map((x) => accessEntryOf(x.resource as AuditEvent, x.link?.find((l) => l.relation === 'inclusion-proof')?.url));
    },
    treeHead: () => options.client.json<SignedTreeHead>(`${base}/tree-head`),
    inclusionProof: (entry, treeSize) => options.client.json<InclusionProof>(inclusionProofUrl(base, entry, treeSize)),
    async signingKeys() {
      const jwks = await options.client.json<{ keys: JWK[] }>(`${base}/.well-known/jwks.json`);
      return jwks.keys ?? [];
    },
  };
}

// ---- trust part (src/trust/http/routes.ts), with the operator's certificate ----

export function httpTrustOperator(options: { client: PartClient; trustUrl: string }): TrustOperatorPort {
  const base = options.trustUrl;
  const c = options.client;
  return {
    async participants() {
      return (await c.json<{ participants: Participant[] }>(`${base}/participants`)).participants;
    },
    setStatus: (ura, status: ParticipantStatus, reason) =>
      c.json<Participant>(`${base}/participants/${encodeURIComponent(ura)}/status`, { method: 'POST', body: { status, reason }, headers: { 'content-type': 'application/json' } }),
    qualify: (ura, qualification, validUntil) =>
      c.json<Participant>(`${base}/participants/${encodeURIComponent(ura)}/qualifications`, {
        method: 'POST',
        body: { qualification, ...(validUntil ? { validUntil } : {}) },
        headers: { 'content-type': 'application/json' },
      }),
    withdrawQualification: (ura, qualification) =>
      c.json<Participant>(`${base}/participants/${encodeURIComponent(ura)}/qualifications/${encodeURIComponent(qualification)}/withdraw`, {
        method: 'POST',
        body: {},
        headers: { 'content-type': 'application/json' },
      }),
    /** GET [trust]/certificates, every page (the list is the operator's). */
    async certificates() {
      type Page = { certificates: Array<{ serial: string; ura: string | null; kvk: string | null; status: 'valid' | 'revoked'; notAfter: string }>; nextOffset?: number };
      const all: Page['certificates'] = [];
      for (let offset: number | undefined = 0, pages = 0; offset !== undefined && pages < 50; pages++) {
        const r: Page = await c.json<Page>(`${base}/certificates?_count=200&_offset=${offset}`);
        all.push(...r.certificates);
        offset = r.nextOffset;
      }
      const now = Date.now();
      return all.map(
        (x): CertificateInfo => ({
          serial: x.serial,
          subject: x.ura ? `URA ${x.ura}` : `KvK ${x.kvk ?? '?'}`,
          ura: x.ura ?? undefined,
          kvk: x.kvk ?? undefined,
          notAfter: x.notAfter,
          status: x.status === 'valid' && Date.parse(x.notAfter) < now ? 'expired' : x.status,
        }),
      );
    },
    async revokeCertificate(serial, reason) {
      await c.json(`${base}/certificates/${encodeURIComponent(serial)}/revoke`, { method: 'POST', body: { reason }, headers: { 'content-type': 'application/json' } });
    },
    async agreements(): Promise<AgreementsDocument> {
      return (await fetchAgreements({ trustUrl: base, client: c })).document;
    },
  };
}

// ---- network picture ----

export interface MonitorTarget {
  name: string;
  kind: 'part' | 'node';
  url: string;
}

/**
 * Health from each part's and node's public GET /health; exchange volumes and failures summed
 * over the nodes' GET /metrics (last 15 minutes; the portal's operator certificate may read them).
 */
export function httpNetworkMonitor(options: { client: PartClient; targets: () => MonitorTarget[]; stats?: () => Promise<ExchangeStat[]> }): NetworkMonitorPort {
  return {
    async health() {
      return Promise.all(
        options.targets().map(async (t): Promise<PartHealth> => {
          const started = performance.now();
          try {
            const r = await options.client.call<{ status?: string }>(`${t.url}/health`, { deadlineMs: 2000, retries: 0 });
            const up = r.status === 200 && (r.body as { status?: string })?.status === 'ok';
            return { ...t, up, latencyMs: Math.round(performance.now() - started), detail: up ? undefined : `HTTP ${r.status}` };
          } catch (err) {
            return { ...t, up: false, detail: (err as Error).message.slice(0, 200) };
          }
        }),
      );
    },
    exchangeStats:
      options.stats ??
      (async () => {
        const totals = new Map<string, ExchangeStat>();
        const nodes = options.targets().filter((t) => t.kind === 'node');
        const answers = await Promise.all(
          nodes.map((n) =>
            options.client
              .call<{ exchanges?: Array<{ exchange: string; requests: number; failures: number }> }>(`${n.url}/metrics`, { deadlineMs: 2000, retries: 0 })
              .catch(() => null),
          ),
        );
        for (const a of answers) {
          if (a?.status !== 200) continue;
          for (const e of a.body.exchanges ?? []) {
            const t = totals.get(e.exchange) ?? { exchange: e.exchange, requests: 0, failures: 0 };
            t.requests += e.requests;
            t.failures += e.failures;
            totals.set(e.exchange, t);
          }
        }
        return [...totals.values()].sort((a, b) => a.exchange.localeCompare(b.exchange));
      }),
  };
}
