import type { Bundle } from '@medplum/fhirtypes';
import type { Check, Probe } from './types.ts';

// What a directory client (the nodes' update client) needs from a directory source besides the
// declared searches: ITI-91 history per type since a moment, paged by next links, and ITI-90's
// Organization with its Endpoints in one search.

const TYPES = ['Organization', 'Endpoint', 'OrganizationAffiliation', 'Location', 'HealthcareService'];

export async function checkDirectorySource(base: string, probe: Probe): Promise<Check[]> {
  const checks: Check[] = [];
  for (const type of TYPES) {
    const res = await probe(`${base}/${type}/_history?_since=2000-01-01T00:00:00Z&_count=1`);
    const bundle = res.body as Bundle;
    const ok = res.status === 200 && bundle?.resourceType === 'Bundle' && bundle.type === 'history';
    const entriesOk = (bundle?.entry ?? []).every((e) => e.request?.method && e.response?.status);
    checks.push({ rule: `history.${type}`, ok: ok && entriesOk, detail: `${type}/_history?_since= → ${res.status}${ok && !entriesOk ? ' (entries without request/response)' : ''}` });
    const next = bundle?.link?.find((l) => l.relation === 'next')?.url;
    if (ok && next) {
      const page = await probe(next);
      checks.push({ rule: `history.${type}.next`, ok: page.status === 200 && (page.body as Bundle)?.type === 'history', detail: `next page → ${page.status}` });
    }
  }
  const inc = await probe(`${base}/Organization?_include=Organization:endpoint&_count=5`);
  const b = inc.body as Bundle;
  checks.push({
    rule: 'search.organization-with-endpoints',
    ok: inc.status === 200 && b?.type === 'searchset' && typeof b.total === 'number',
    detail: `Organization?_include=Organization:endpoint → ${inc.status}, total ${b?.total ?? 'absent'}`,
  });
  return checks;
}
