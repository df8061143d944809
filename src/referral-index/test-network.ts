import { PartClient } from '../kit/http/client.ts';
import { createService, type RunningService } from '../kit/http/service.ts';
import type { PartDefinition, TlsIdentity } from '../kit/part.ts';
import { migrate } from '../kit/store/migrate.ts';
import { openPgliteStore } from '../kit/store/pglite.ts';
import { createTestPki, staticNetwork, type TestPki } from '../kit/testing/test-pki.ts';
import { createPrsPart } from '../pseudonyms/part.ts';
import { TrustTokenProvider } from '../trust/auth/index.ts';
import { stubTrustPart } from '../trust/testing/stub-trust.ts';
import { ReferralClient } from './client.ts';
import { ORGANIZATIONS } from '../sandbox/cast.ts';
import { defaultAgreements } from '../trust/agreements/default-agreements.ts';
import { createNviPart, type RequesterStanding } from './part.ts';

/** Tests hold the built-in agreements (no trust part's signed document here); built once. */
const TEST_AGREEMENTS = defaultAgreements();

// Tests only: a small network over real mutual TLS with a stand-in trust authorisation server
// (grants what is asked among the localisation and exchange scopes), the PRS and the NVI, sharing
// one in-memory PGlite (one schema each) because creating one costs seconds. Its register knows the
// cast, qualified as the sandbox seed does: for every exchange its type requests or holds in.

export const OPERATOR_URA = '90000001';
const GRANTABLE = new Set(['prs:eval', 'nvi:read', 'nvi:write', 'acute-zorg', 'bgz', 'medicatieoverdracht', 'beeldbeschikbaarheid']);

/** The cast's register entries (GET /participants/<ura> of the stand-in trust part). */
export const TEST_REGISTER: Map<string, RequesterStanding> = new Map(
  ORGANIZATIONS.map((o) => [
    o.ura,
    {
      organizationType: o.type,
      qualifications: defaultAgreements()
        .exchanges.filter((e) => e.requesterOrganizationTypes.includes(o.type) || e.holderOrganizationTypes.includes(o.type))
        .map((e) => ({ qualification: e.code, validFrom: '2020-01-01T00:00:00Z', validUntil: null })),
    },
  ]),
);

export interface TestNetwork {
  pki: TestPki;
  trust: RunningService;
  prs: RunningService;
  nvi: RunningService;
  /** A participant's identity and a PartClient with tokens from the test trust AS. */
  participant(ura: string): Promise<{ tls: TlsIdentity; client: PartClient; referrals: ReferralClient }>;
  close(): Promise<void>;
}

export async function startTestNetwork(): Promise<TestNetwork> {
  const pki = await createTestPki();
  const network = staticNetwork({});
  const services: RunningService[] = [];
  const clients: Array<{ close(): Promise<void> }> = [];

  const { part: trustPart, store: asStore } = await stubTrustPart({
    open: openPgliteStore,
    scopesFor: async (_c, requested) => requested.filter((s) => GRANTABLE.has(s)),
    routes: (app) => {
      app.get<{ Params: { ura: string } }>('/participants/:ura', async (request, reply) => {
        const entry = TEST_REGISTER.get(request.params.ura);
        return entry ? { ura: request.params.ura, ...entry } : reply.code(404).send({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'not-found' }] });
      });
    },
  });
  const start = async (part: PartDefinition, name: string) => {
    const store = part.name === 'trust' ? asStore : await openPgliteStore(part.schema);
    if (part.name !== 'trust') await migrate(store, part.migrations);
    const svc = await createService(part, { tls: await pki.identity(OPERATOR_URA, { name }), network, store });
    services.push(svc);
    network.set(part.name, svc.url);
    return svc;
  };
  const trust = await start(trustPart, 'trust');
  const prs = await start(createPrsPart(), 'prs');
  const nvi = await start(createNviPart({ agreements: async () => TEST_AGREEMENTS }), 'nvi');

  return {
    pki,
    trust,
    prs,
    nvi,
    async participant(ura) {
      const tls = await pki.identity(ura);
      const tokens = new TrustTokenProvider({ tls, ura, tokenEndpoint: `${trust.url}/oauth/token` });
      const client = new PartClient({ tls, tokens, maxRetries: 0 });
      clients.push(client, tokens);
      const referrals = new ReferralClient({ client, nviUrl: nvi.url, prsUrl: prs.url, ura, sourceClientId: `ehr-${ura}` });
      return { tls, client, referrals };
    },
    async close() {
      for (const c of clients) await c.close();
      for (const s of services.reverse()) {
        await s.close();
        await s.store.close();
      }
    },
  };
}
