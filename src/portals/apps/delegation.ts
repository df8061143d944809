import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import type { SigningKey } from '../../trust/contract.ts';
import type { Grant } from './grant-store.ts';

// What the portal shows a holder when an app asks on a citizen's behalf: a short-lived JWT signed
// with the portal's app key (served at /citizen-api/jwks), naming the citizen (sub = BSN, as the
// citizen provider's id_token does), her level of assurance at the grant, the app and the
// categories she granted it. Holders accept it only from the operator's certificate, like the
// portal's own id_token use, and serve nothing outside those categories.

export const DELEGATION_AUDIENCE = 'citizen-access';
export const DELEGATION_TTL_SECONDS = 60;
export const APP_ISSUER_PATH = '/citizen-api';
export const APP_JWKS_PATH = '/citizen-api/jwks';

export async function delegationToken(key: SigningKey, issuer: string, grant: Grant, options: { share?: boolean } = {}): Promise<string> {
  return new SignJWT({
    acr: grant.loa,
    azp: grant.clientId,
    app_name: grant.appName,
    categories: grant.categories,
    ...(options.share ? { share: true } : {}),
  })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'JWT' })
    .setIssuer(issuer)
    .setSubject(grant.bsn)
    .setAudience(DELEGATION_AUDIENCE)
    .setJti(randomUUID())
    .setIssuedAt()
    .setExpirationTime(`${DELEGATION_TTL_SECONDS}s`)
    .sign(key.privateKey);
}
