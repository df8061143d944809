import * as client from 'openid-client';

// Tests, scripts and benchmarks start a login as a real client does: the OpenID Connect
// authorization code flow with PKCE (S256), a nonce and a state. One helper for all of them.

export interface PkceStart {
  url: URL;
  verifier: string;
  nonce: string;
  state: string;
}

/** The authorization URL of a fresh PKCE login, and what the client keeps to finish it. */
export async function startPkceLogin(config: client.Configuration, redirectUri: string, params: Record<string, string> = {}): Promise<PkceStart> {
  const verifier = client.randomPKCECodeVerifier();
  const nonce = client.randomNonce();
  const state = client.randomState();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri: redirectUri,
    scope: 'openid',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    nonce,
    state,
    prompt: 'login',
    ...params,
  });
  return { url, verifier, nonce, state };
}

/** Exchanges the code the provider sent back to `callback`, checking the verifier, nonce and state. */
export function finishPkceLogin(config: client.Configuration, flow: PkceStart, callback: URL) {
  return client.authorizationCodeGrant(config, callback, { pkceCodeVerifier: flow.verifier, expectedNonce: flow.nonce, expectedState: flow.state, idTokenExpected: true });
}
