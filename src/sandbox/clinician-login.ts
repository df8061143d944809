import { readFileSync } from 'node:fs';
import { TestBrowser } from '../identity/testing/browser.ts';
import { finishPkceLogin, startPkceLogin } from '../identity/testing/pkce.ts';
import type { Manifest } from './manifest.ts';
import type { Sandbox } from './sandbox.ts';

// Scripts, tests and benchmarks act as a clinician's EHR does: log her in at the Dezi-like
// provider (code flow with PKCE, the sandbox login page) and take the verklaring from her id_token.

/**
 * A clinician's verklaring, obtained as her EHR would: the OpenID Connect code flow with PKCE at
 * the Dezi-like provider (as her organisation's viewer client), the verklaring from the id_token.
 */
export async function clinicianVerklaring(sandbox: Sandbox, deziNumber: string): Promise<string> {
  return manifestClinicianVerklaring(sandbox.manifest, deziNumber, sandbox.identities.operator.ca);
}

/** The same from the manifest alone (scripts and `ldn conformance` against a running sandbox). */
export async function manifestClinicianVerklaring(manifest: Manifest, deziNumber: string, ca = readFileSync(manifest.ca.cert, 'utf8')): Promise<string> {
  const client = await import('openid-client');
  const clinician = manifest.users.clinicians.find((c) => c.deziNumber === deziNumber);
  if (!clinician) throw new Error(`the sandbox has no clinician ${deziNumber}`);
  const node = manifest.nodes.find((n) => clinician.viewer.startsWith(n.url))!;
  const callback = `${node.url}/viewer/callback`;
  const browser = new TestBrowser(ca);
  try {
    const config = await client.discovery(new URL(manifest.services.identity.url), `viewer-${node.name}`, undefined, client.None(), {
      [client.customFetch]: browser.fetch as import('openid-client').CustomFetch,
    });
    const flow = await startPkceLogin(config, callback);
    const page = await browser.follow(flow.url.href, callback);
    const done = await browser.follow(page.url, callback, { form: { account: deziNumber, do: 'login', lang: 'nl' } });
    if (!done.location?.startsWith(callback)) throw new Error(`login did not reach the callback: ${done.status}`);
    const tokens = await finishPkceLogin(config, flow, new URL(done.location));
    const verklaring = tokens.claims()?.verklaring;
    if (typeof verklaring !== 'string') throw new Error('the id_token carries no verklaring');
    return verklaring;
  } finally {
    await browser.close();
  }
}

