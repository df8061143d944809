import * as client from 'openid-client';
import { Agent, fetch as undiciFetch } from 'undici';

// The portals as OpenID Connect relying parties (openid-client 6): authorization code flow with
// PKCE (S256), state and nonce. Browsers hold no client certificate, so people are authenticated
// by this flow and a session cookie, never by TLS.

export interface OidcSettings {
  issuerUrl: string;
  clientId: string;
  /** Absent = public client (token_endpoint_auth_method none, PKCE only). */
  clientSecret?: string;
  /** Absolute URL of this portal's callback, registered at the provider. */
  redirectUri: string;
  scope?: string;
  /** PEM of the CA that signed the provider's certificate (the sandbox CA is self-made). */
  ca?: string;
  /** Plain-HTTP issuers, for tests only. */
  allowHttp?: boolean;
  /** Extra authorization request parameters, e.g. { prompt: 'login', acr_values: ... }. */
  authParams?: Record<string, string>;
}

export interface PendingLogin {
  state: string;
  nonce: string;
  codeVerifier: string;
}

export interface LoginResult {
  subject: string;
  /** id_token claims merged with userinfo claims (userinfo wins only where id_token is silent). */
  claims: Record<string, unknown>;
  idToken?: string;
  accessToken?: string;
}

/** What a portal needs from a login: start it, and finish it from the callback URL. */
export interface LoginProvider {
  begin(): Promise<{ url: string; pending: PendingLogin }>;
  complete(callbackUrl: URL, pending: PendingLogin): Promise<LoginResult>;
}

type CustomFetch = (url: string, options: client.CustomFetchOptions) => Promise<Response>;

function fetchWithCa(ca: string): CustomFetch {
  const agent = new Agent({ connect: { ca } });
  return (url, options) =>
    undiciFetch(url, { ...(options as object), dispatcher: agent } as Parameters<typeof undiciFetch>[1]) as unknown as Promise<Response>;
}

export function openIdLogin(settings: OidcSettings): LoginProvider {
  let config: Promise<client.Configuration> | undefined;
  const configuration = () => {
    config ??= (async () => {
      const auth = settings.clientSecret ? client.ClientSecretPost(settings.clientSecret) : client.None();
      const execute = settings.allowHttp ? [client.allowInsecureRequests] : [];
      const options: client.DiscoveryRequestOptions = { execute };
      if (settings.ca) options[client.customFetch] = fetchWithCa(settings.ca);
      const c = await client.discovery(new URL(settings.issuerUrl), settings.clientId, { redirect_uris: [settings.redirectUri] }, auth, options);
      if (settings.ca) c[client.customFetch] = fetchWithCa(settings.ca);
      return c;
    })().catch((err) => {
      config = undefined; // try discovery again on the next login
      throw err;
    });
    return config;
  };

  return {
    async begin() {
      const c = await configuration();
      const pending: PendingLogin = { state: client.randomState(), nonce: client.randomNonce(), codeVerifier: client.randomPKCECodeVerifier() };
      const url = client.buildAuthorizationUrl(c, {
        redirect_uri: settings.redirectUri,
        scope: settings.scope ?? 'openid',
        response_type: 'code',
        code_challenge: await client.calculatePKCECodeChallenge(pending.codeVerifier),
        code_challenge_method: 'S256',
        state: pending.state,
        nonce: pending.nonce,
        ...(settings.authParams ?? {}),
      });
      return { url: url.href, pending };
    },
    async complete(callbackUrl, pending) {
      const c = await configuration();
      const tokens = await client.authorizationCodeGrant(c, callbackUrl, {
        pkceCodeVerifier: pending.codeVerifier,
        expectedState: pending.state,
        expectedNonce: pending.nonce,
        idTokenExpected: true,
      });
      const idClaims = (tokens.claims() ?? {}) as Record<string, unknown>;
      const subject = String(idClaims.sub);
      let userinfo: Record<string, unknown> = {};
      if (tokens.access_token && c.serverMetadata().userinfo_endpoint) {
        userinfo = (await client.fetchUserInfo(c, tokens.access_token, subject).catch(() => ({}))) as Record<string, unknown>;
      }
      return { subject, claims: { ...userinfo, ...idClaims }, idToken: tokens.id_token, accessToken: tokens.access_token };
    },
  };
}

/** The callback URL as the provider sent the browser to it: registered redirect URI + query. */
export function callbackUrlOf(redirectUri: string, requestUrl: string): URL {
  const url = new URL(redirectUri);
  const q = requestUrl.indexOf('?');
  url.search = q >= 0 ? requestUrl.slice(q) : '';
  return url;
}
