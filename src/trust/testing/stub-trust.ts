import type { FastifyInstance } from 'fastify';
import type { PartDefinition } from '../../kit/part.ts';
import { migrate } from '../../kit/store/migrate.ts';
import { openIsolatedPgliteStore } from '../../kit/store/pglite.ts';
import type { Store } from '../../kit/store/store.ts';
import { AUTHORIZATION_SERVER_PUBLIC_PATHS, authMigrations, loadOrCreateSigningKey, registerTokenEndpoint } from '../auth/index.ts';
import type { TokenEndpointOptions } from '../auth/authorization-server.ts';

// Tests only: the one stand-in for the trust part that suites run their parts against. It is the
// real authorisation server (private_key_jwt, certificate-bound tokens) over its own PGlite store,
// admitting any caller for its own URA and granting what `scopesFor` allows; a suite adds the
// register routes it needs (for example GET /participants/<ura>).

export interface StubTrustOptions {
  /** Which of the requested scopes a caller gets. */
  scopesFor: TokenEndpointOptions['scopesFor'];
  /** The jwt-bearer grant's user assertion check (a professional's verklaring); absent: no user grant. */
  verifyUserAssertion?: TokenEndpointOptions['verifyUserAssertion'];
  /** Further routes of the trust part the suite needs. */
  routes?: (app: FastifyInstance) => void | Promise<void>;
  /** Schema of its store (default trust). */
  schema?: string;
  /** How its store is opened (default an isolated PGlite; a suite sharing one PGlite passes openPgliteStore). */
  open?: (schema: string) => Promise<Store>;
}

/** The stand-in trust part and its migrated store (pass both to createService). */
export async function stubTrustPart(o: StubTrustOptions): Promise<{ part: PartDefinition; store: Store }> {
  const schema = o.schema ?? 'trust';
  const store = await (o.open ?? openIsolatedPgliteStore)(schema);
  await migrate(store, authMigrations);
  const signingKey = await loadOrCreateSigningKey(store);
  const part: PartDefinition = {
    name: 'trust',
    schema,
    migrations: [],
    publicPaths: AUTHORIZATION_SERVER_PUBLIC_PATHS,
    async register(app, ctx) {
      await registerTokenEndpoint(app, {
        issuer: () => ctx.baseUrl,
        signingKey,
        store: ctx.store,
        admit: async (peer, ura) => (peer.ura === ura ? null : 'not your URA'),
        scopesFor: o.scopesFor,
        verifyUserAssertion: o.verifyUserAssertion,
      });
      await o.routes?.(app);
    },
  };
  return { part, store };
}
