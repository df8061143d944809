import type { Bundle, OperationOutcome } from '@medplum/fhirtypes';
import { forbidden } from '../kit/fhir/outcome.ts';
import { PartClient } from '../kit/http/client.ts';
import type { NetworkView } from '../kit/part.ts';
import { newTrace } from '../kit/trace.ts';
import { OUTGOING_COUNTRIES_PATH, OUTGOING_SUMMARY_PATH } from '../ncpeh/contract.ts';
import type { TraceContext } from '../kit/trace.ts';
import type { NodeTenant } from './environment.ts';

// The viewer's way to NCPeH-NL for a patient from abroad: the node asks the national contact point
// with the clinician's organisation's own certificate and her verklaring (the same proof of who
// she is that the national overview carries), so the NCPeH decides, audits and vouches for her
// abroad. Nothing of the answer is kept here.

/** A patient from abroad as the clinician identifies him: his country (ISO 3166-1 alpha-2), its national identifier, his demographics. */
export interface ForeignPatient {
  country: string;
  id: string;
  family: string;
  given: string;
  /** YYYY-MM-DD */
  birthDate: string;
}

/** Who asks: the organisation she logged in for and her verklaring. */
type Asker = { ura?: string; verklaring?: string };

export interface ForeignSummaryService {
  /** The countries on the trust list the patient may come from. */
  countries(session: Asker): Promise<Array<{ country: string; name: string }>>;
  /** The transcoded summary, or why there is none (status and its words). */
  summary(input: { session: Asker; patient: ForeignPatient; trace?: TraceContext }): Promise<{ ok: true; bundle: Bundle } | { ok: false; status: number; message: string }>;
}

export function foreignSummaryService(o: { network: NetworkView; tenants: Map<string, NodeTenant>; deadlineMs?: number }): ForeignSummaryService & { close(): Promise<void> } {
  const clients = new Map<string, PartClient>();
  const base = () => {
    if (!o.network.has('ncpeh')) throw new Error('this network has no national contact point for cross-border care (NCPeH)');
    return o.network.url('ncpeh');
  };
  const clientFor = (session: Asker) => {
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
