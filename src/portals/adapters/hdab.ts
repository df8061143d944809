import type { PartClient } from '../../kit/http/client.ts';
import type { PermitView } from '../../secondary-use/contract.ts';
import type { HdabOperatorPort } from '../ports.ts';

// The HDAB's permit API (src/secondary-use/part.ts) for the operator pages. The client carries the
// operator's network certificate: the HDAB takes the operator by that certificate alone (URA and
// system number), so the browser never holds anything that could decide on a permit.

export function httpHdabOperator(options: { client: PartClient; hdabUrl: () => string }): HdabOperatorPort {
  const c = options.client;
  const url = (path: string) => `${options.hdabUrl().replace(/\/+$/, '')}${path}`;
  const json = { 'content-type': 'application/json' };
  return {
    async permits() {
      return (await c.json<{ permits: PermitView[] }>(url('/permits'))).permits;
    },
    permit: (id) => c.json<PermitView>(url(`/permits/${encodeURIComponent(id)}`)),
    decide: (id, decision, reason) => c.json<PermitView>(url(`/permits/${encodeURIComponent(id)}/decision`), { method: 'POST', body: { decision, reason }, headers: json }),
    startExtraction: (id) => c.json<PermitView>(url(`/permits/${encodeURIComponent(id)}/extraction`), { method: 'POST' }),
  };
}
