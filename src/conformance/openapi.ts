import { Validator } from '@seriousme/openapi-schema-validator';
import type { Check, Probe } from './types.ts';

// Declared = served for a non-FHIR API: its OpenAPI document is valid OpenAPI 3.1 (checked by an
// independent validator library), and every operation it lists is routed by the server (the
// answer may refuse the probe, but never as "no such endpoint" or "method not allowed").

const PROBE_SEGMENT = 'conformance-probe';

function routedAnswer(status: number, body: unknown): boolean {
  if (status === 405) return false;
  if (status !== 404) return true;
  const diagnostics = JSON.stringify((body as { issue?: unknown })?.issue ?? '');
  return !diagnostics.includes('no such endpoint');
}

export async function probeOpenApi(base: string, probe: Probe): Promise<{ checks: Check[]; document?: Record<string, unknown> }> {
  const checks: Check[] = [];
  const res = await probe(`${base}/openapi.json`);
  checks.push({ rule: 'openapi.served', ok: res.status === 200, detail: `GET ${base}/openapi.json → ${res.status}` });
  if (res.status !== 200) return { checks };
  const document = res.body as Record<string, unknown>;
  const validator = new Validator();
  const result = await validator.validate(structuredClone(document));
  checks.push({
    rule: 'openapi.valid-3.1',
    ok: result.valid && validator.version === '3.1',
    detail: result.valid ? `valid OpenAPI ${validator.version}` : JSON.stringify(result.errors).slice(0, 500),
  });
  const paths = (document.paths ?? {}) as Record<string, Record<string, unknown>>;
  for (const [template, methods] of Object.entries(paths)) {
    const path = template.replace(/\{[^}]+\}/g, PROBE_SEGMENT);
    for (const method of Object.keys(methods).filter((m) => ['get', 'post', 'put', 'delete', 'patch'].includes(m))) {
      const upper = method.toUpperCase();
      const answer = await probe(`${base}${path}`, { method: upper, ...(upper === 'GET' || upper === 'DELETE' ? {} : { body: {} }) });
      checks.push({ rule: `openapi.${upper} ${template}.routed`, ok: routedAnswer(answer.status, answer.body), detail: `${upper} ${path} → ${answer.status}` });
    }
  }
  return { checks, document };
}
