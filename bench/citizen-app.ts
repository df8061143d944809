import { mkdtempSync, rmSync } from 'node:fs';
import type { Bundle } from '@medplum/fhirtypes';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as oidc from 'openid-client';
import { TestBrowser } from '../src/identity/testing/browser.ts';
import { PartClient } from '../src/kit/http/client.ts';
import { createLogger } from '../src/kit/log.ts';
import { httpCitizenData } from '../src/portals/adapters/citizen-data.ts';
import { appTokens, registerTestApp, testAppClient } from '../src/portals/testing/citizen-app.ts';
import { DE_GROOT } from '../src/sandbox/cast.ts';
import { startSandbox } from '../src/sandbox/sandbox.ts';
import { fetchAgreements } from '../src/trust/agreements/jws.ts';
import { TrustTokenProvider } from '../src/trust/auth/token-provider.ts';
import { citizenIdToken, citizenPortalLogin } from '../test/e2e/sandbox-helpers.ts';
import { argValue, figure, percentile, timed } from './lib/report.ts';

// `npm run bench -- citizen-app [--requests N] [--concurrency C] [--rounds R]`: authorised app
// requests per second for De Groot's medication list (GET [citizen-api]/MedicationStatement with
// a DPoP-bound token, openid-client making the proofs) against the same assembly done for the
// portal in the same run: the portal's citizen-data code (PRS + NVI localisation, directory
// addressing, every holder asked with his id_token, merge) limited to the same category. Rounds
// are interleaved so a noisy neighbour hits both sides. Target ratio ≥ 0.8.

const BENCH = 'citizen-app';
const progress = (s: string) => process.stderr.write(`[bench ${BENCH}] ${s}\n`);

export async function run(args: string[]): Promise<void> {
  const requests = argValue(args, '--requests', 30);
  const concurrency = argValue(args, '--concurrency', 4);
  const rounds = argValue(args, '--rounds', 3);
  const dir = mkdtempSync(join(tmpdir(), 'ldn-bench-apps-'));
  progress('starting the sandbox');
  const sandbox = await startSandbox({ manifestPath: join(dir, 'sandbox.json'), portBase: 0, log: createLogger('sandbox', { level: 'silent' }) });
  const closers: Array<() => Promise<unknown>> = [];
  try {
    const portal = (sandbox.manifest.portal?.url ?? '').replace(/\/$/, '');
    const fhirBase = `${portal}/citizen-api/fhir`;
    const trustUrl = sandbox.network.url('trust');
    const operator = new PartClient({ tls: sandbox.identities.operator, maxRetries: 0 });
    closers.push(() => operator.close());
    await registerTestApp(operator, trustUrl, { clientId: 'bench-app', name: 'Bench App', scopes: ['patient/MedicationStatement.rs', 'offline_access'] });
    const { browser } = await citizenPortalLogin(sandbox, DE_GROOT.bsn);
    closers.push(() => browser.close());
    const appBrowser = new TestBrowser(sandbox.identities.operator.ca);
    closers.push(() => appBrowser.close());
    const app = await testAppClient(fhirBase, 'bench-app', appBrowser.fetch);
    const tokens = await appTokens(app, browser, { portal, fhirBase, scope: 'patient/MedicationStatement.rs offline_access', grant: ['MedicationUse'] });
    // Access tokens live 5 minutes: refresh (rotated) before each app round.
    let access = tokens.access_token;
    let refresh = tokens.refresh_token!;
    // An answer with an OperationOutcome (a holder late or failing under load) still counts, but is reported.
    const incomplete = { app: 0, portal: 0 };
    const partial = (b: Bundle) => b.entry?.some((e) => e.resource?.resourceType === 'OperationOutcome') === true;
    const appRequest = async () => {
      const r = await oidc.fetchProtectedResource(app.config, access, new URL(`${fhirBase}/MedicationStatement`), 'GET', undefined, undefined, { DPoP: app.dpop });
      if (r.status !== 200) throw new Error(`app request: HTTP ${r.status}`);
      if (partial((await r.json()) as Bundle)) incomplete.app++;
    };

    // The ceiling: the portal's own assembly code with the portal's identity and his id_token.
    const tokensProvider = new TrustTokenProvider({ tls: sandbox.identities.operator, ura: sandbox.manifest.operator.ura, tokenEndpoint: `${trustUrl}/oauth/token` });
    const networkClient = new PartClient({ tls: sandbox.identities.operator, tokens: tokensProvider });
    closers.push(() => networkClient.close(), () => tokensProvider.close());
    const agreements = (await fetchAgreements({ trustUrl, client: operator })).document;
    const portalAssembly = httpCitizenData({
      client: networkClient,
      nviUrl: sandbox.network.url('nvi'),
      prsUrl: sandbox.network.url('prs'),
      directoryUrl: sandbox.network.url('directory'),
      ura: sandbox.manifest.operator.ura,
      agreements: async () => agreements,
    });
    // His id_token is short-lived, as at the portal: a fresh login before each round.
    let idToken = await citizenIdToken(sandbox, DE_GROOT.bsn);
    const ceilingRequest = async () => {
      const b = await portalAssembly({ bsn: DE_GROOT.bsn, idToken }, { categories: ['MedicationUse'] });
      if (partial(b)) incomplete.portal++;
    };

    progress('warm-up');
    await appRequest();
    await ceilingRequest();
    const appRates: number[] = [];
    const ceilingRates: number[] = [];
    const appLatencies: number[] = [];
    for (let round = 0; round < rounds; round++) {
      const next = await oidc.refreshTokenGrant(app.config, refresh, undefined, { DPoP: app.dpop });
      access = next.access_token;
      refresh = next.refresh_token!;
      idToken = await citizenIdToken(sandbox, DE_GROOT.bsn);
      const a = await timed(requests, concurrency, appRequest);
      const c = await timed(requests, concurrency, ceilingRequest);
      appRates.push(a.perSecond);
      ceilingRates.push(c.perSecond);
      appLatencies.push(...a.latencies);
      progress(`round ${round + 1}: app ${a.perSecond.toFixed(1)}/s, portal assembly ${c.perSecond.toFixed(1)}/s`);
    }
    const sum = (xs: number[]) => xs.reduce((s, x) => s + x, 0);
    const sorted = [...appLatencies].sort((x, y) => x - y);
    figure(BENCH, 'app_vs_portal_assembly', sum(appRates) / sum(ceilingRates), {
      app_per_s: Number((sum(appRates) / rounds).toFixed(2)),
      portal_per_s: Number((sum(ceilingRates) / rounds).toFixed(2)),
      rounds: appRates.map((r, i) => Number((r / ceilingRates[i]).toFixed(3))),
      requests,
      concurrency,
      incomplete_answers: incomplete,
      target: 0.8,
    });
    figure(BENCH, 'app_request_latency_ms_p50', percentile(sorted, 50), { p95: Number(percentile(sorted, 95).toFixed(1)) });
  } finally {
    for (const c of closers.reverse()) await c().catch(() => {});
    await sandbox.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
