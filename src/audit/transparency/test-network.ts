import type { Logger } from 'pino';
import { PartClient } from '../../kit/http/client.ts';
import { createService, type RunningService } from '../../kit/http/service.ts';
import type { PartDefinition, TlsIdentity } from '../../kit/part.ts';
import { migrate } from '../../kit/store/migrate.ts';
import { openIsolatedPgliteStore } from '../../kit/store/pglite.ts';
import { createTestPki, staticNetwork, type TestPki } from '../../kit/testing/test-pki.ts';
import { PrsClient } from '../../pseudonyms/client.ts';
import { createPrsPart } from '../../pseudonyms/part.ts';
import { OPERATOR } from '../../sandbox/cast.ts';
import { TrustTokenProvider } from '../../trust/auth/index.ts';
import { stubTrustPart } from '../../trust/testing/stub-trust.ts';
import { createTransparencyPart, TRANSPARENCY_WRITE_SCOPE, type TransparencyOptions } from './part.ts';
import { transparencyPseudonymToken } from './pseudonym-client.ts';

// Tests only: a small network over real mutual TLS with a stand-in trust authorisation server
// (grants prs:eval and transparency:write to any participant for its own URA), the real PRS and
// the transparency part, each central part with the operator's URA as in the sandbox.

const GRANTABLE = new Set(['prs:eval', TRANSPARENCY_WRITE_SCOPE]);

export interface Participant {
  tls: TlsIdentity;
  client: PartClient;
  prs: PrsClient;
  /** A fresh PRS token for the transparency part. */
  token(bsn: string): Promise<string>;
}

export interface TransparencyTestNetwork {
  pki: TestPki;
  trust: RunningService;
  prs: RunningService;
  transparency: RunningService;
  participant(ura: string, name?: string): Promise<Participant>;
  close(): Promise<void>;
}

export async function startTransparencyNetwork(options: TransparencyOptions = {}, log?: Logger): Promise<TransparencyTestNetwork> {
  const pki = await createTestPki();
  const network = staticNetwork({});
  const services: RunningService[] = [];
  const clients: Array<{ close(): Promise<void> }> = [];
  const start = async (part: PartDefinition, name: string, store?: Awaited<ReturnType<typeof openIsolatedPgliteStore>>) => {
    const own = store ?? (await openIsolatedPgliteStore(part.schema));
    if (!store) await migrate(own, part.migrations);
    const svc = await createService(part, { tls: await pki.identity(OPERATOR.ura, { name }), network, store: own, log });
    services.push(svc);
    network.set(part.name, svc.url);
    return svc;
  };

  const stub = await stubTrustPart({ scopesFor: async (_c, requested) => requested.filter((s) => GRANTABLE.has(s)) });
  const trust = await start(stub.part, 'trust', stub.store);
  const prs = await start(createPrsPart(), 'prs');
  const transparency = await start(createTransparencyPart({ treeHeadIntervalMs: 60_000, ...options }), 'transparency');

  return {
    pki,
    trust,
    prs,
    transparency,
    async participant(ura, name) {
      const tls = await pki.identity(ura, { name });
      const tokens = new TrustTokenProvider({ tls, ura, tokenEndpoint: `${trust.url}/oauth/token` });
      const client = new PartClient({ tls, tokens, maxRetries: 0, defaultDeadlineMs: 5000 });
      clients.push(client, tokens);
      const prsClient = new PrsClient(client, prs.url);
      return { tls, client, prs: prsClient, token: (bsn) => transparencyPseudonymToken(prsClient, client, transparency.url, bsn) };
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
