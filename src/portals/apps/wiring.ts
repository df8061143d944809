import type { Observation } from '@medplum/fhirtypes';
import type { FastifyInstance } from 'fastify';
import type { PartClient } from '../../kit/http/client.ts';
import type { PartContext } from '../../kit/part.ts';
import type { TraceContext } from '../../kit/trace.ts';
import { type AgreementsDocument, exchangeByCode, type ExchangeDefinition, loadOrCreateSigningKey } from '../../trust/contract.ts';
import type { CitizenSession } from '../citizen/routes.ts';
import type { CitizenDataPort } from '../ports.ts';
import type { Sessions } from '../sessions.ts';
import { type AppRegister, httpAppRegister } from './app-register.ts';
import { API_BASE, FHIR_BASE, registerAppApi } from './api.ts';
import { registerAppAuthorization } from './authorize.ts';
import { GrantStore } from './grant-store.ts';
import { portalSettingsOf } from '../serve-settings.ts';

// The citizen-apps feature of the portal part in one place: the register's view (trust part),
// the grant store and the delegation key in the portal's own schema, the JSON API (its own
// Fastify scope, so errors are OperationOutcomes) and the HTML pages (in the portal's scope).

export interface CitizenAppsOptions {
  ctx: PartContext;
  /** The portal's mutual-TLS client (its certificate) for the trust part. */
  client: PartClient;
  trustUrl: string | undefined;
  agreements(): Promise<AgreementsDocument>;
  citizenData: CitizenDataPort;
  sessions: Sessions<CitizenSession>;
  assetBase: string;
  share(ura: string, token: string, observation: Observation, trace: TraceContext): Promise<{ status: number; body: unknown }>;
  /** Tests: another register (default: the trust part's, cached 30 s; setting app_register_cache_ms). */
  register?: AppRegister;
}

const CITIZEN_EXCHANGE = 'citizen-access';

export async function registerCitizenApps(app: FastifyInstance, o: CitizenAppsOptions): Promise<{ pages(scope: FastifyInstance): void }> {
  const { ctx } = o;
  const grants = await GrantStore.open(ctx.store);
  const key = await loadOrCreateSigningKey(ctx.store, 'citizen-app-delegation');
  const cacheMs = portalSettingsOf(ctx.settings).appRegisterCacheMs;
  const register =
    o.register ??
    httpAppRegister({
      client: o.client,
      trustUrl: () => {
        if (!o.trustUrl) throw new Error('no trust part in the network: no app register');
        return o.trustUrl;
      },
      maxAgeMs: cacheMs,
    });
  const exchange = async (): Promise<ExchangeDefinition> => {
    const found = exchangeByCode(await o.agreements(), CITIZEN_EXCHANGE);
    if (!found) throw new Error(`the agreements define no ${CITIZEN_EXCHANGE} exchange`);
    return found;
  };
  await app.register(async (scope) => {
    scope.addHook('onRequest', async (_request, reply) => {
      reply.header('cache-control', 'no-store');
    });
    await registerAppApi(scope, { store: ctx.store, grants, register, key, baseUrl: () => ctx.baseUrl, citizenData: o.citizenData, exchange, share: o.share });
  });
  return {
    pages(scope) {
      registerAppAuthorization(scope, {
        sessions: o.sessions,
        register,
        grants,
        exchange,
        fhirBase: () => `${ctx.baseUrl}${FHIR_BASE}`,
        issuer: () => `${ctx.baseUrl}${API_BASE}`,
        assetBase: o.assetBase,
      });
    },
  };
}
