import type { JWTPayload } from 'jose';

// What an access token says. Registered claims per RFC 9068 (typ at+jwt), the certificate
// binding per RFC 8705, and, when a professional is behind the call, who that is (from the
// Dezi verklaring the authorisation server verified).

export const ACCESS_TOKEN_TYPE = 'at+jwt';
/** Upper bound for an access token's life. */
export const MAX_TOKEN_SECONDS = 300;

export interface UserContext {
  deziNumber: string;
  roleCode: string;
  /** Display name of the professional. */
  name: string;
  /** URA of the organisation the verklaring was issued for. */
  ura: string;
}

export interface AccessTokenClaims extends JWTPayload {
  iss: string;
  /** URA of the calling organisation. */
  sub: string;
  aud: string;
  scope: string;
  exp: number;
  iat: number;
  jti: string;
  client_id: string;
  cnf: { 'x5t#S256': string };
  dezi_number?: string;
  role_code?: string;
  name?: string;
}

export function scopesOf(claims: { scope?: unknown }): string[] {
  return typeof claims.scope === 'string' ? claims.scope.split(' ').filter(Boolean) : [];
}

export function userOf(claims: AccessTokenClaims): UserContext | undefined {
  if (!claims.dezi_number) return undefined;
  return { deziNumber: claims.dezi_number, roleCode: claims.role_code ?? '', name: claims.name ?? '', ura: claims.sub };
}
