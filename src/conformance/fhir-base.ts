import type { CapabilityStatement, OperationDefinition, OperationOutcome } from '@medplum/fhirtypes';
import { MODIFIER_ONLY, OAUTH_URIS_EXTENSION, SECURITY_SERVICE_SYSTEM } from '../kit/fhir/capability.ts';
import { validateResource } from '../kit/fhir/validate.ts';
import type { Check, Probe } from './types.ts';

// Declared = served, for any FHIR base: reads [base]/metadata and probes the server with what it
// declares (and with what it does not). Used by the parts' tests and by `ldn conformance`.

/** A harmless value of each search-parameter type (it may match nothing; it must not be "unsupported"). */
const PROBE_VALUE: Record<string, string> = {
  token: 'urn:ietf:rfc:3986|urn:ldn:conformance-probe',
  date: 'ge2000-01-01',
  reference: 'Organization/conformance-probe',
  string: 'conformance-probe',
  uri: 'urn:ldn:conformance-probe',
  number: '1',
  special: 'conformance-probe',
};

/** Whether an answer says the parameter is not served (as opposed to "served, but not this value"). */
function refusedAsUnsupported(status: number, body: unknown, param: string): boolean {
  if (status !== 400) return false;
  const issues = (body as OperationOutcome)?.issue ?? [];
  return issues.some((i) => i.code === 'not-supported' && (i.expression?.includes(param) || i.diagnostics?.includes(param)));
}

function isOutcome(body: unknown): boolean {
  return (body as { resourceType?: string })?.resourceType === 'OperationOutcome';
}

export interface FhirBaseProbeOptions {
  /** Probe each declared search parameter (needs a caller allowed to search). */
  searches?: boolean;
}

export async function probeFhirBase(base: string, probe: Probe, options: FhirBaseProbeOptions = {}): Promise<{ checks: Check[]; capability?: CapabilityStatement }> {
  const checks: Check[] = [];
  const check = (rule: string, ok: boolean, detail: string) => checks.push({ rule, ok, detail });
  const meta = await probe(`${base}/metadata`);
  const cs = meta.body as CapabilityStatement;
  check('metadata.served', meta.status === 200 && cs?.resourceType === 'CapabilityStatement', `GET ${base}/metadata → ${meta.status}`);
  if (meta.status !== 200 || cs?.resourceType !== 'CapabilityStatement') return { checks };
  const problems = validateResource(cs);
  check('metadata.valid-r4', problems.length === 0, problems.length ? problems.map((p) => p.diagnostics).join('; ') : 'valid FHIR R4 CapabilityStatement');
  const rest = cs.rest?.find((r) => r.mode === 'server');
  const services = (rest?.security?.service ?? []).flatMap((s) => s.coding ?? []).filter((c) => c.system === SECURITY_SERVICE_SYSTEM);
  const tokenUrl = rest?.security?.extension?.find((e) => e.url === OAUTH_URIS_EXTENSION)?.extension?.find((e) => e.url === 'token')?.valueUri;
  check(
    'security.declared',
    services.some((c) => c.code === 'Certificates') && services.some((c) => c.code === 'OAuth') && !!tokenUrl,
    `rest.security: ${services.map((c) => c.code).join(', ') || 'no services'}; token endpoint ${tokenUrl ?? 'missing'}`,
  );

  for (const op of rest?.operation ?? []) {
    const id = op.definition.split('/').pop() ?? '';
    const res = await probe(`${base}/OperationDefinition/${id}`);
    const def = res.body as OperationDefinition;
    const ok = res.status === 200 && def?.resourceType === 'OperationDefinition' && def.url === op.definition && validateResource(def).length === 0;
    check(`operation.${op.name}.definition`, ok, `${op.definition} → ${res.status}${ok ? '' : ' (not a valid OperationDefinition with that canonical)'}`);
  }

  const firstType = rest?.resource?.[0]?.type;
  const target = firstType ? `${base}/${firstType}` : `${base}/metadata`;
  const xml = await probe(`${target}?_format=xml`);
  check('format.xml-refused', xml.status === 406 && isOutcome(xml.body), `_format=xml → ${xml.status}`);
  const accept = await probe(target, { headers: { accept: 'application/fhir+xml' } });
  check('accept.xml-refused', accept.status === 406 && isOutcome(accept.body), `Accept: application/fhir+xml → ${accept.status}`);
  const unknown = await probe(`${base}/NoSuchResourceType`);
  check('path.unknown-404', unknown.status === 404 && isOutcome(unknown.body), `GET ${base}/NoSuchResourceType → ${unknown.status}`);

  for (const r of rest?.resource ?? []) {
    const interactions = new Set((r.interaction ?? []).map((i) => i.code));
    if (!interactions.has('delete')) {
      // Where instances are served (read), an undeclared DELETE is 405; where no instance path
      // exists at all, 404 is as right.
      const del = await probe(`${base}/${r.type}/conformance-probe`, { method: 'DELETE' });
      const expected = interactions.has('read') || interactions.has('update') ? [405] : [404, 405];
      check(`${r.type}.delete-refused`, expected.includes(del.status) && isOutcome(del.body), `DELETE ${r.type}/<id> (not declared) → ${del.status}, expected ${expected.join(' or ')}`);
    }
    if (!options.searches || !interactions.has('search-type')) continue;
    for (const p of r.searchParam ?? []) {
      // A parameter served only with a modifier says so in its documentation ("with the :identifier modifier only").
      const modifier = MODIFIER_ONLY.exec(p.documentation ?? '')?.[1];
      const key = modifier ? `${p.name}:${modifier}` : p.name;
      const res = await probe(`${base}/${r.type}?${encodeURIComponent(key)}=${encodeURIComponent(modifier === 'identifier' ? PROBE_VALUE.token : (PROBE_VALUE[p.type] ?? 'x'))}`);
      check(
        `${r.type}.search.${p.name}`,
        !refusedAsUnsupported(res.status, res.body, key) && !refusedAsUnsupported(res.status, res.body, p.name) && res.status < 500,
        `declared ${key} (${p.type}) → ${res.status}`,
      );
    }
    const undeclared = '_ldn-undeclared';
    const res = await probe(`${base}/${r.type}?${undeclared}=1`);
    check(`${r.type}.search.undeclared-refused`, refusedAsUnsupported(res.status, res.body, undeclared), `undeclared ${undeclared} → ${res.status}`);
  }
  return { checks, capability: cs };
}
