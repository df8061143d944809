import { readFileSync } from 'node:fs';
import { PartClient } from '../kit/http/client.ts';
import type { TlsIdentity } from '../kit/part.ts';
import type { Manifest } from '../sandbox/contract.ts';
import { fetchAgreements, TrustTokenProvider } from '../trust/contract.ts';
import { newTrace } from '../kit/trace.ts';
import type { AuditLogVerifier } from './audit-log.ts';
import { checkDirectorySource } from './directory-source.ts';
import { checkEhr } from './ehr.ts';
import { probeFhirBase } from './fhir-base.ts';
import { checkHolder } from './holder.ts';
import { partClientProbe } from './part-client-probe.ts';
import type { ConformanceReport } from './report.ts';
import type { Check } from './types.ts';

// `ldn conformance`: runs the network's requirements of one role against a vendor's system, as a
// participant of the network (its certificate and, for a holder, a clinician's verklaring).

export const ROLES = ['holder', 'directory-source', 'ehr'] as const;
export type ConformanceRole = (typeof ROLES)[number];

export interface ConformanceOptions {
  target: string;
  role: ConformanceRole;
  exchange?: string;
  /** The network as the sandbox manifest describes it (CA, trust URL, participants' certificates). */
  manifest: Manifest;
  /** URA of the participant the kit acts as (default: the first participant that is not the target). */
  requester?: string;
  /** A verklaring for the user-level exchange scopes (holder role). */
  verklaring?: string;
  /** Test patient (holder: a BSN the holder has data about; ehr: the same in the EHR). */
  bsn?: string;
  deadlineMs?: number;
  /** How long the holder's accesses may take to reach the transparency log (ms, default 30 s). */
  auditWaitMs?: number;
  /** The holder's audit log, for the audit-written rule (audit-log.ts); without it the rule fails as not checked. */
  auditLog?: AuditLogVerifier;
}

function identityOf(manifest: Manifest, ura: string): TlsIdentity {
  const p = manifest.participants.find((x) => x.ura === ura);
  if (!p) throw new Error(`the manifest has no participant ${ura}`);
  return { cert: readFileSync(p.cert, 'utf8'), key: readFileSync(p.key, 'utf8'), ca: readFileSync(manifest.ca.cert, 'utf8') };
}

/** The target's URA when it is a node tenant's base (/org/<URA>/fhir). */
export function tenantOf(target: string): string | undefined {
  return /\/org\/(\d{8})\/fhir\/?$/.exec(target)?.[1];
}

export async function runConformance(o: ConformanceOptions): Promise<ConformanceReport> {
  const startedAt = new Date().toISOString();
  const target = o.target.replace(/\/$/, '');
  const requester = o.requester ?? o.manifest.participants.find((p) => p.ura !== tenantOf(target))?.ura;
  if (!requester) throw new Error('no participant to act as; pass --requester');
  const tls = identityOf(o.manifest, requester);
  const bare = new PartClient({ tls, maxRetries: 0, defaultDeadlineMs: 60_000 });
  const closers: Array<() => Promise<unknown>> = [() => bare.close()];
  const checks: Check[] = [];
  try {
    if (o.role === 'holder') {
      const exchange = o.exchange ?? 'acute-zorg';
      const trustUrl = o.manifest.services.trust.url;
      const { document: agreements } = await fetchAgreements({ trustUrl, client: bare });
      // The token endpoint is the one the holder declares in its CapabilityStatement.
      const meta = await bare.call<{ rest?: Array<{ security?: { extension?: Array<{ extension?: Array<{ url: string; valueUri?: string }> }> } }> }>(`${target}/metadata`);
      const tokenEndpoint =
        meta.body?.rest?.[0]?.security?.extension?.flatMap((e) => e.extension ?? []).find((e) => e.url === 'token')?.valueUri ?? `${new URL(target).origin}/oauth/token`;
      const tokens = new TrustTokenProvider({ tls, ura: requester, tokenEndpoint });
      const client = new PartClient({ tls, tokens, maxRetries: 0, defaultDeadlineMs: 60_000 });
      closers.push(() => client.close(), async () => tokens.close?.());
      const resource = target.replace(/\/fhir$/, '');
      // One trace for every probe: the holder's audit records of the kit's accesses carry its id.
      const trace = newTrace();
      const withToken = async (url: string, init: { method?: string; headers?: Record<string, string>; body?: unknown } = {}) => {
        const r = await client.call(url, { ...init, retries: 0, trace, scope: exchange, resource, ...(o.verklaring ? { userAssertion: o.verklaring } : {}) });
        return { status: r.status, headers: r.headers, body: r.body };
      };
      checks.push(
        ...(await checkHolder({
          target,
          probe: withToken,
          probeWithoutToken: partClientProbe(bare),
          agreements,
          exchange,
          bsn: o.bsn ?? '',
          deadlineMs: o.deadlineMs ?? 3000,
          ...(o.auditLog ? { auditLog: { traceId: trace.traceId, verify: o.auditLog } } : {}),
          ...(o.manifest.services.transparency
            ? {
                transparencyLog: {
                  waitMs: o.auditWaitMs ?? 30_000,
                  treeSize: async () => {
                    const r = await bare.call<{ treeSize?: number }>(`${o.manifest.services.transparency.url}/tree-head`);
                    if (r.status !== 200 || typeof r.body?.treeSize !== 'number') throw new Error(`tree head → ${r.status}`);
                    return r.body.treeSize;
                  },
                },
              }
            : {}),
        })),
      );
      return { target, role: o.role, exchange, startedAt, checks };
    }
    if (o.role === 'directory-source') {
      const tokens = new TrustTokenProvider({ tls, ura: requester, tokenEndpoint: `${o.manifest.services.trust.url}/oauth/token` });
      const client = new PartClient({ tls, tokens, maxRetries: 0, defaultDeadlineMs: 60_000 });
      closers.push(() => client.close(), async () => tokens.close?.());
      const probe = partClientProbe(client, { scope: 'directory:read', resource: target });
      checks.push(...(await probeFhirBase(target, probe, { searches: true })).checks, ...(await checkDirectorySource(target, probe)));
      return { target, role: o.role, startedAt, checks };
    }
    checks.push(...(await checkEhr(target, o.bsn ?? '')));
    return { target, role: o.role, startedAt, checks };
  } finally {
    for (const close of closers.reverse()) await close().catch(() => {});
  }
}
