import type { AuditEvent, Resource } from '@medplum/fhirtypes';
import { PartClient } from '../../src/kit/http/client.ts';
import type { Sandbox } from '../../src/sandbox/sandbox.ts';
import { TrustTokenProvider } from '../../src/trust/auth/token-provider.ts';
import { clinicianVerklaring } from './sandbox-helpers.ts';

// Notified pull from the organisations' own systems: a professional's verklaring, the
// organisation's certificate, a token from its own node, and the node's workflow interface.

export interface WorkflowCaller {
  call<T = Record<string, unknown>>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: T }>;
  close(): Promise<void>;
}

export async function workflowCaller(sandbox: Sandbox, ura: string, deziNumber: string, exchange: string): Promise<WorkflowCaller> {
  const verklaring = await clinicianVerklaring(sandbox, deziNumber);
  const participant = sandbox.manifest.participants.find((p) => p.ura === ura)!;
  const nodeUrl = new URL(participant.nodeUrl!).origin;
  const identity = sandbox.identities.participants.get(ura)!;
  const tokens = new TrustTokenProvider({ tls: identity, ura, tokenEndpoint: `${nodeUrl}/oauth/token` });
  const client = new PartClient({ tls: identity, tokens, maxRetries: 0, defaultDeadlineMs: 60_000 });
  return {
    async call<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
      const r = await client.call<T>(`${participant.nodeUrl}${path}`, {
        method,
        body,
        scope: exchange,
        resource: participant.nodeUrl,
        userAssertion: verklaring,
        headers: { 'dezi-verklaring': verklaring, ...headers },
      });
      return { status: r.status, body: r.body };
    },
    async close() {
      await client.close();
      await tokens.close?.();
    },
  };
}

/** Writes resources into an organisation's simulated EHR, as its own system records them. */
export async function recordInEhr(sandbox: Sandbox, ura: string, resources: Resource[]): Promise<void> {
  for (const r of resources) {
    const res = await fetch(`${sandbox.ehr.url}/${ura}/fhir/${r.resourceType}/${r.id}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/fhir+json' },
      body: JSON.stringify(r),
    });
    if (res.status !== 200 && res.status !== 201) throw new Error(`EHR ${ura} refused ${r.resourceType}/${r.id}: ${res.status} ${await res.text()}`);
  }
}

/**
 * Events of one node's hash-chained audit log (the query decoded from its base64 entity) that
 * mention `text`, each as one searchable line.
 */
export async function auditEntries(sandbox: Sandbox, node: string, text: string): Promise<string[]> {
  const store = sandbox.nodes.find((n) => n.name === node)?.runtime()?.ctx.store;
  if (!store) throw new Error(`no node ${node}`);
  const rows = await store.query<{ entry: string }>('SELECT entry FROM audit_log ORDER BY seq');
  return rows
    .map((r) => {
      const event = (JSON.parse(r.entry) as { event: AuditEvent }).event;
      const queries = (event.entity ?? []).map((e) => (e.query ? Buffer.from(e.query, 'base64').toString('utf8') : '')).join(' ');
      return `${JSON.stringify(event)} ${queries}`;
    })
    .filter((line) => line.includes(text));
}

export function statusParams(status: string, reason?: string, outputs: string[] = []) {
  return {
    resourceType: 'Parameters',
    parameter: [{ name: 'status', valueCode: status }, ...(reason ? [{ name: 'reason', valueString: reason }] : []), ...outputs.map((reference) => ({ name: 'output', valueReference: { reference } }))],
  };
}
