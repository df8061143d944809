import { createLocalJWKSet, errors as joseErrors, type JSONWebKeySet, jwtVerify } from 'jose';
import type { Queryable } from '../../kit/store/store.ts';
import { type CitizenApp, CLIENT_ASSERTION_TYPE, consumeJti, MAX_ASSERTION_SECONDS } from '../../trust/contract.ts';
import { ClientAuthError } from '../errors.ts';

// A confidential app (one registered with a JWKS) authenticates at the token endpoint with
// private_key_jwt (RFC 7523 §2.2, checked with jose): signed with a key in its registered set,
// iss = sub = its client id, aud = the token endpoint, short-lived, its jti used once. A public
// app (no JWKS) sends only its client_id: PKCE and DPoP carry its proof of possession.

export { ClientAuthError };

export async function authenticateApp(app: CitizenApp, form: Record<string, unknown>, input: { tokenEndpoint: string; db: Queryable }): Promise<void> {
  const type = form.client_assertion_type;
  const assertion = form.client_assertion;
  if (!app.jwks) {
    if (type !== undefined || assertion !== undefined) throw new ClientAuthError('this app is registered as a public client: no client assertion');
    return;
  }
  if (type !== CLIENT_ASSERTION_TYPE || typeof assertion !== 'string') throw new ClientAuthError('a confidential app authenticates with private_key_jwt');
  try {
    const { payload } = await jwtVerify(assertion, createLocalJWKSet(app.jwks as JSONWebKeySet), {
      issuer: app.clientId,
      subject: app.clientId,
      audience: input.tokenEndpoint,
      maxTokenAge: `${MAX_ASSERTION_SECONDS}s`,
      clockTolerance: 5,
      requiredClaims: ['exp', 'iat', 'jti'],
    });
    const exp = new Date((payload.exp as number) * 1000);
    if (!(await consumeJti(input.db, `app-client:${app.clientId}`, String(payload.jti), exp))) throw new Error('client assertion replayed');
  } catch (err) {
    throw new ClientAuthError(`client assertion refused: ${err instanceof joseErrors.JOSEError ? err.code : (err as Error).message}`);
  }
}
