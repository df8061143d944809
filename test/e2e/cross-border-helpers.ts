import { PartClient } from '../../src/kit/http/client.ts';
import type { TlsIdentity } from '../../src/kit/part.ts';
import { DE_GROOT } from '../../src/sandbox/cast.ts';
import { BELGIUM } from '../../src/sandbox/second-country.ts';

// Acting as the Belgian hospital's and pharmacy's systems: their own certificates from Belgium's
// CA, calling Belgium's contact point, which relays to NCPeH-NL through the trust list.

/** Either sandbox (in-process, or `--processes`): where Belgium's contact point is, and its hospital's and pharmacy's certificates. */
type WithBelgium = { crossBorder?: { belgium: { ncpeh: { url: string }; hospital: TlsIdentity; pharmacy: TlsIdentity } } };

export const DE_GROOT_DEMOGRAPHICS = { bsn: DE_GROOT.bsn, family: 'de Groot', given: 'Hendrik', birthDate: DE_GROOT.birthDate };

export async function belgianCall<T = unknown>(
  sandbox: WithBelgium,
  who: 'hospital' | 'pharmacy',
  path: string,
  body: Record<string, unknown>,
): Promise<{ status: number; body: T }> {
  const cb = sandbox.crossBorder;
  if (!cb) throw new Error('the sandbox has no second country');
  const client = new PartClient({ tls: cb.belgium[who], maxRetries: 0, defaultDeadlineMs: 90_000 });
  try {
    const r = await client.call<T>(`${cb.belgium.ncpeh.url}${path}`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    return { status: r.status, body: r.body };
  } finally {
    await client.close();
  }
}

export function summaryRequest(patient: Record<string, string>, professional: { id: string; name: string; role: string } = BELGIUM.clinician) {
  return { country: 'NL', patient, professional, language: 'fr' };
}

/**
 * The Belgian doctor's summary request, asked again (as she would) while NCPeH-NL says the Dutch
 * holders failed or ran out of time (503/504): a loaded test machine is not what these tests are about.
 */
export async function askSummary<T = unknown>(sandbox: WithBelgium, patient: Record<string, string>, professional?: { id: string; name: string; role: string }, who: 'hospital' | 'pharmacy' = 'hospital') {
  let r = await belgianCall<T>(sandbox, who, '/cross-border/patient-summary', summaryRequest(patient, professional));
  for (let i = 0; i < 4 && (r.status === 503 || r.status === 504 || JSON.stringify(r.body).includes('summary-incomplete')); i++) {
    r = await belgianCall<T>(sandbox, who, '/cross-border/patient-summary', summaryRequest(patient, professional));
  }
  return r;
}
