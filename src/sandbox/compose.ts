import type { Logger } from 'pino';
import { consentSettingsOf } from '../consent/serve-settings.ts';
import { AGREEMENTS_REFRESH_SETTING } from '../kit/common-settings.ts';
import { PartClient } from '../kit/http/client.ts';
import { readSettings } from '../kit/part-settings.ts';
import type { NetworkView, PartDefinition, Peer, TlsIdentity } from '../kit/part.ts';
import { type AgreementsSource, startAgreementsSource } from '../trust/agreements/source.ts';
import { remoteJwks } from '../trust/auth/remote-jwks.ts';

// One start path per central part, used by `ldn serve <part>` and by the sandbox alike: the same
// composition function, the agreements from the trust part's signed document (verified, refreshed),
// the same citizen authentication. The sandbox passes only what a cast run knows better
// (organisation names, the portal's certificate).

export interface ComposeEnv {
  tls: TlsIdentity;
  network: NetworkView;
  settings: Record<string, string | undefined>;
  log: Logger;
  /** How often the agreements are fetched again (default: setting agreements_refresh_ms, 5 s). */
  agreementsRefreshMs?: number;
  /** Sandbox knowledge: organisation names by URA (production: none, or the directory's). */
  organizationName?: (ura: string) => string | undefined;
  /** Sandbox knowledge: which peer is the citizen portal (production: setting TRANSPARENCY_PORTAL_URA). */
  portalPeer?: (peer: Peer) => boolean;
}

export interface ComposedPart {
  part: PartDefinition;
  /** Stops what the composition started (agreements refresh, clients). */
  stop(): Promise<void>;
}

/** The citizen provider's audience for tokens the portal forwards (its OIDC client id). */
export const PORTAL_CLIENT_ID = 'portal';

async function agreementsFor(env: ComposeEnv, client: PartClient): Promise<AgreementsSource> {
  const refreshMs = env.agreementsRefreshMs ?? readSettings('agreements', [AGREEMENTS_REFRESH_SETTING], env.settings).integer(AGREEMENTS_REFRESH_SETTING.name);
  return startAgreementsSource({ trustUrl: () => env.network.url('trust'), client, refreshMs, log: env.log });
}

async function withAgreements(env: ComposeEnv, build: (source: AgreementsSource, client: PartClient) => PartDefinition): Promise<ComposedPart> {
  const client = new PartClient({ tls: env.tls });
  let source: AgreementsSource;
  try {
    source = await agreementsFor(env, client);
  } catch (err) {
    await client.close();
    throw new Error(`the trust part's signed agreements could not be fetched: ${(err as Error).message}`);
  }
  const part = build(source, client);
  const register = part.register.bind(part);
  // Without the trust part this part refuses every caller once its status list is too old, and
  // holds agreements that can no longer change: it is not ready (the balancer takes it out).
  part.register = async (app, ctx) => {
    ctx.requireForReadiness?.({
      name: 'trust',
      check: async () => {
        const r = await client.call(`${env.network.url('trust')}/health/live`, { deadlineMs: 1500, retries: 0 });
        return r.status === 200 ? null : `answered ${r.status}`;
      },
    });
    return register(app, ctx);
  };
  return {
    part,
    async stop() {
      source.stop();
      await client.close();
    },
  };
}

export async function composeNvi(env: ComposeEnv): Promise<ComposedPart> {
  const { createNviPart } = await import('../referral-index/part.ts');
  return withAgreements(env, (source) => createNviPart({ agreements: async () => source.current() }));
}

export async function composeConsent(env: ComposeEnv): Promise<ComposedPart> {
  const { createConsentPart } = await import('../consent/part.ts');
  const { citizenTokenAuth } = await import('../consent/citizen-auth.ts');
  const audience = consentSettingsOf(env.settings).citizenTokenAudience;
  return withAgreements(env, (source, client) => {
    let citizenAuth: ReturnType<typeof citizenTokenAuth> | undefined;
    return createConsentPart({
      agreements: () => source.current(),
      // The citizen provider may start after this part (its clients' URLs must be known): resolve on first use.
      citizenAuth: async (request) => {
        if (!env.network.has('citizen-identity')) return undefined; // no provider named: citizens get 401
        const issuer = env.network.url('citizen-identity');
        citizenAuth ??= citizenTokenAuth({ issuer, jwks: remoteJwks(`${issuer}/jwks`, client), audience, bsnClaim: 'sub' });
        return citizenAuth(request);
      },
    });
  });
}

export async function composeTransparency(env: ComposeEnv): Promise<ComposedPart> {
  const { createTransparencyPart } = await import('../audit/transparency/part.ts');
  return withAgreements(env, (source) =>
    createTransparencyPart({ agreements: () => source.current(), organizationName: env.organizationName, portalPeer: env.portalPeer }),
  );
}
