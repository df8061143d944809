import type { Bundle, OperationOutcome } from '@medplum/fhirtypes';
import { forbidden } from '../kit/fhir/outcome.ts';
import { PartClient } from '../kit/http/client.ts';
import type { NetworkView } from '../kit/part.ts';
import { newTrace } from '../kit/trace.ts';
import { OUTGOING_COUNTRIES_PATH, OUTGOING_SUMMARY_PATH } from '../ncpeh/contract.ts';
import type { ForeignSummaryPort } from '../portals/ports.ts';
import type { NodeTenant } from './environment.ts';

// The viewer's way to NCPeH-NL for a patient from abroad: the node asks the national contact point
// with the clinician's organisation's own certificate and her verklaring (the same proof of who
// she is that the national overview carries), so the NCPeH decides, audits and vouches for her
// abroad. Nothing of the answer is kept here.

export function foreignSummaryPort(o: { network: NetworkView; tenants: Map<string, NodeTenant>; deadlineMs?: number }): ForeignSummaryPort & { close(): Promise<void> } {
  const clients = new Map<string, PartClient>();
  const base = () => {
    if (!o.network.has('ncpeh')) throw new Error('this network has no national contact point for cross-border care (NCPeH)');
    return o.network.url('ncpeh');
  };
  const clientFor = (session: { ura?: string; verklaring?: string }) => {
    const tenant = session.ura ? o.tenants.get(session.ura) : undefined;
    if (!tenant) throw forbidden('this node does not serve the organisation you are logged in for');
    if (!session.verklaring) throw forbidden('your login carries no Dezi verklaring');
    let client = clients.get(tenant.ura);
    if (!client) {
      client = new PartClient({ tls: tenant.identity, maxRetries: 0, defaultDeadlineMs: o.deadlineMs ?? 60_000 });
      clients.set(tenant.ura, client);
    }
    return { client, verklaring: session.verklaring };
  };
  return {
    async countries(session) {
      const { client } = clientFor(session);
      const r = await client.call<{ countries?: Array<{ country: string; name: string }> }>(`${base()}${OUTGOING_COUNTRIES_PATH}`, { deadlineMs: 10_000 });
      return r.status === 200 && Array.isArray(r.body?.countries) ? r.body.countries : [];
    },
    async summary(input) {
      const { client, verklaring } = clientFor(input.session);
      const { country, ...patient } = input.patient;
      const r = await client.call<Bundle | OperationOutcome>(`${base()}${OUTGOING_SUMMARY_PATH}`, {
        method: 'POST',
        body: { country, patient },
        headers: { 'content-type': 'application/json', 'dezi-verklaring': verklaring },
        trace: input.trace ?? newTrace(),
      });
      if (r.status === 200 && r.body?.resourceType === 'Bundle') return { ok: true, bundle: r.body };
      const said = r.body?.resourceType === 'OperationOutcome' ? r.body.issue.map((i) => i.diagnostics).filter(Boolean).join('; ') : '';
      return { ok: false, status: r.status, message: said || `the national contact point answered ${r.status}` };
    },
    async close() {
      for (const c of clients.values()) await c.close().catch(() => {});
    },
  };
}
