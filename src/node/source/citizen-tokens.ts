import { credentialTooLong } from '../../kit/http/credential-limits.ts';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { decodeJwt, errors as joseErrors, type JWTVerifyGetKey, jwtVerify } from 'jose';
import { HttpError } from '../../kit/fhir/outcome.ts';
import { PartClient } from '../../kit/http/client.ts';
import { isValidBsn } from '../../kit/identifiers/bsn.ts';
import type { PartContext } from '../../kit/part.ts';
import { remoteJwks } from '../../trust/contract.ts';
import { nodeSettingsOf } from '../serve-settings.ts';

// Who a citizen request is for, from the bearer token the operator's portal presents: either the
// citizen provider's id_token (she looks herself, in the portal), or the portal's delegation
// token for one of her apps (issuer [portal]/citizen-api, audience citizen-access, 60 s), which
// also names the app and the categories she granted it. Anything else is 401.

export const APP_TOKEN_AUDIENCE = 'citizen-access';

export interface VerifiedCitizen {
  bsn: string;
  loa: string;
  /** The relying party the token was issued to (the portal's client id, or the app's). */
  clientId: string;
  /** Set when an app asks: its name for the access log, and the categories it was granted. */
  app?: { clientId: string; name: string; categories: string[]; share: boolean };
}

const refused = (why: string) =>
  new HttpError(401, 'login', `citizen token refused: ${why}`, { headers: { 'www-authenticate': 'Bearer error="invalid_token"' } });

const reason = (err: unknown) => (err instanceof joseErrors.JOSEError ? `${err.code}: ${err.message}` : (err as Error).message);

/** Verifies the citizen provider's id_token; 401 when it does not verify. */
export async function verifyCitizenToken(token: string, input: { issuer: string; jwks: JWTVerifyGetKey; audience: string }): Promise<VerifiedCitizen> {
  try {
    const tooLong = credentialTooLong("the citizen's id_token", token);
    if (tooLong) throw new Error(tooLong);
    const { payload } = await jwtVerify(token, input.jwks, { issuer: input.issuer, audience: input.audience, clockTolerance: 5, requiredClaims: ['sub', 'exp'] });
    if (typeof payload.sub !== 'string' || !isValidBsn(payload.sub)) throw new Error('the token names no valid BSN');
    if (typeof payload.acr !== 'string' || !payload.acr) throw new Error('the token states no level of assurance (acr)');
    return { bsn: payload.sub, loa: payload.acr, clientId: typeof payload.azp === 'string' ? payload.azp : input.audience };
  } catch (err) {
    throw refused(reason(err));
  }
}

/** Verifies the portal's delegation token for a citizen's app; 401 when it does not verify. */
export async function verifyAppToken(token: string, input: { issuer: string; jwks: JWTVerifyGetKey }): Promise<VerifiedCitizen> {
  try {
    const tooLong = credentialTooLong("the app's token", token);
    if (tooLong) throw new Error(tooLong);
    const { payload } = await jwtVerify(token, input.jwks, {
      issuer: input.issuer,
      audience: APP_TOKEN_AUDIENCE,
      clockTolerance: 5,
      maxTokenAge: '90s',
      requiredClaims: ['sub', 'exp', 'iat', 'azp', 'app_name', 'categories'],
    });
    if (typeof payload.sub !== 'string' || !isValidBsn(payload.sub)) throw new Error('the token names no valid BSN');
    const categories = payload.categories;
    if (!Array.isArray(categories) || !categories.every((c) => typeof c === 'string')) throw new Error('categories must be a list of codes');
    if (typeof payload.azp !== 'string' || typeof payload.app_name !== 'string') throw new Error('the token names no app');
    return {
      bsn: payload.sub,
      loa: typeof payload.acr === 'string' ? payload.acr : 'unknown',
      clientId: payload.azp,
      app: { clientId: payload.azp, name: payload.app_name, categories: categories as string[], share: payload.share === true },
    };
  } catch (err) {
    throw refused(reason(err));
  }
}

/** The verifier a node uses for its citizen routes; the issuers are resolved on first use (they may start later). */
export function citizenTokenVerifier(app: FastifyInstance, ctx: PartContext): (request: FastifyRequest) => Promise<VerifiedCitizen> {
  const audience = nodeSettingsOf(ctx.settings).citizenAudience;
  const client = new PartClient({ tls: ctx.tls, maxRetries: 1 });
  app.addHook('onClose', async () => client.close());
  const keys = new Map<string, JWTVerifyGetKey>();
  const jwksOf = (url: string) => {
    const known = keys.get(url);
    if (known) return known;
    const fresh = remoteJwks(url, client);
    keys.set(url, fresh);
    return fresh;
  };
  return async (request) => {
    const m = /^Bearer (\S+)$/.exec(request.headers.authorization ?? '');
    if (!m) throw new HttpError(401, 'login', "the citizen's token (Authorization: Bearer) is required", { headers: { 'www-authenticate': 'Bearer' } });
    let iss: unknown;
    try {
      iss = decodeJwt(m[1]).iss;
    } catch {
      throw refused('not a JWT');
    }
    // Only the operator's portal issues app tokens; its issuer is where the network says it is.
    const portalIssuer = ctx.network.has('portal') ? `${ctx.network.url('portal')}/citizen-api` : undefined;
    if (portalIssuer && iss === portalIssuer) return verifyAppToken(m[1], { issuer: portalIssuer, jwks: jwksOf(`${portalIssuer}/jwks`) });
    if (!ctx.network.has('citizen-identity')) throw new HttpError(503, 'transient', 'no citizen identity provider in this network');
    const issuer = ctx.network.url('citizen-identity');
    return verifyCitizenToken(m[1], { issuer, jwks: jwksOf(`${issuer}/jwks`), audience });
  };
}
