import { type Account, type ClientMetadata, Provider } from 'oidc-provider';
import type { Logger } from 'pino';
import type { Queryable } from '../../kit/store/store.ts';
import { LOGIN_PATH, OIDC_ROUTES } from '../constants.ts';
import type { RsaKeyPair } from '../keys.ts';
import { storeAdapterFactory } from './adapter.ts';

// One configuration of oidc-provider for both identity parts: authorization code flow only,
// PKCE (S256) required for every client, no dynamic registration, no dev login pages, storage
// in the part's Store. What differs per part (accounts, claims, acr) comes in as setup.

export interface ProviderSetup {
  issuer: string;
  db: Queryable;
  clients: ClientMetadata[];
  idTokenKey: RsaKeyPair;
  cookieKeys: string[];
  /** Scope → claims released for it (into the id_token as well as userinfo). */
  claims: Record<string, string[]>;
  /** token: the code or access token the account is looked up for (absent at /authorize). */
  findAccount(accountId: string, token?: { grantId?: string }): Promise<Account | undefined>;
  acrValues?: string[];
  log: Logger;
  /** Seals the provider's table (adapter.ts); undefined = one key for this process. */
  storeKey?: Buffer;
}

const TTL_SECONDS = {
  AuthorizationCode: 60,
  AccessToken: 15 * 60,
  IdToken: 60 * 60,
  Interaction: 10 * 60,
  Session: 8 * 60 * 60,
  Grant: 8 * 60 * 60,
};

export function buildProvider(s: ProviderSetup): Provider {
  const provider = new Provider(s.issuer, {
    adapter: storeAdapterFactory(s.db, s.storeKey),
    clients: s.clients,
    jwks: { keys: [s.idTokenKey.privateJwk] },
    cookies: { keys: s.cookieKeys },
    routes: { ...OIDC_ROUTES },
    scopes: Object.keys(s.claims),
    claims: { acr: null, auth_time: null, iss: null, sid: null, ...s.claims },
    // Dezi puts the verklaring in the id_token itself, not only in userinfo.
    conformIdTokenClaims: false,
    responseTypes: ['code'],
    pkce: { required: () => true },
    acrValues: s.acrValues ?? [],
    findAccount: (_ctx: unknown, id: string, token?: { grantId?: string }) => s.findAccount(id, token),
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `${LOGIN_PATH}/${interaction.uid}` },
    features: {
      devInteractions: { enabled: false },
      resourceIndicators: { enabled: false },
      userinfo: { enabled: true },
      rpInitiatedLogout: { enabled: true },
    },
    // The portals call the token endpoint from their back end; browsers never need CORS here.
    clientBasedCORS: () => false,
    ttl: TTL_SECONDS,
    renderError: async (ctx: { type: string; body: string }, out: Record<string, string>) => {
      ctx.type = 'html';
      const esc = (v: string) => v.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
      ctx.body = `<!doctype html><html lang="nl"><head><meta charset="utf-8"><title>Fout / Error</title></head><body><h1>Inloggen mislukt / Login failed</h1><p><code>${esc(out.error ?? '')}</code>: ${esc(out.error_description ?? '')}</p></body></html>`;
    },
  });
  provider.on('server_error', (_ctx, err) => s.log.error({ err }, 'oidc server error'));
  return provider;
}
