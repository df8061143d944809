import type { PartClient } from '../../kit/http/client.ts';
import { type PermitView, type QueryReleaseView, RESEARCHER_VERKLARING_HEADER } from '../../secondary-use/contract.ts';
import type { HdabOperatorPort, HdabResearcherPort } from '../ports.ts';

// The HDAB's permit API (src/secondary-use/part.ts) for the operator pages. The client carries the
// operator's network certificate: the HDAB takes the operator by that certificate alone (URA and
// system number), so the browser never holds anything that could decide on a permit. The
// researcher's calls go with the portal's own certificate and her verklaring (researcher.ts in
// the HDAB checks both): the portal holds no research organisation's key.

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

export function httpHdabResearcher(options: { client: PartClient; hdabUrl: () => string }): HdabResearcherPort {
  const c = options.client;
  const url = (path: string) => `${options.hdabUrl().replace(/\/+$/, '')}${path}`;
  const headers = (verklaring: string, body = false) => ({ [RESEARCHER_VERKLARING_HEADER]: verklaring, ...(body ? { 'content-type': 'application/json' } : {}) });
  return {
    async permits(who) {
      return (await c.json<{ permits: PermitView[] }>(url('/permits'), { headers: headers(who.verklaring) })).permits;
    },
    permit: (who, id) => c.json<PermitView>(url(`/permits/${encodeURIComponent(id)}`), { headers: headers(who.verklaring) }),
    apply: (who, application) => c.json<PermitView>(url('/permits'), { method: 'POST', body: application, headers: headers(who.verklaring, true) }),
    query: (who, id, sql) => c.json<QueryReleaseView>(url(`/permits/${encodeURIComponent(id)}/query`), { method: 'POST', body: { sql }, headers: headers(who.verklaring, true), retries: 0 }),
  };
}
