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
  /** RFC 9396: what the token was granted for beyond its scopes (e.g. the workflow Task of a notified pull). */
  authorization_details?: AuthorizationDetail[];
}

/**
 * One RFC 9396 authorization details entry. Notified pull names its authorisation basis so:
 * `{ type: WORKFLOW_TASK_DETAIL, identifier: 'Task/<id>', locations: [<the sender organisation's base>] }`
 * (the Twiin/Nictiz pull is authorised by the workflow Task; RFC 9396 is the standard way to
 * carry such a basis in an OAuth token request and in the token).
 */
export interface AuthorizationDetail {
  type: string;
  identifier?: string;
  locations?: string[];
  actions?: string[];
}

export const WORKFLOW_TASK_DETAIL = 'https://ldn.example.nl/authorization-details/workflow-task';

/** The workflow Task id a token was granted for, if any. */
export function workflowTaskOf(claims: { authorization_details?: unknown }): string | undefined {
  const list = Array.isArray(claims.authorization_details) ? (claims.authorization_details as AuthorizationDetail[]) : [];
  const id = list.find((x) => x && x.type === WORKFLOW_TASK_DETAIL && typeof x.identifier === 'string')?.identifier;
  return id ? /^Task\/([A-Za-z0-9\-.]{1,64})$/.exec(id)?.[1] : undefined;
}

export function scopesOf(claims: { scope?: unknown }): string[] {
  return typeof claims.scope === 'string' ? claims.scope.split(' ').filter(Boolean) : [];
}

export function userOf(claims: AccessTokenClaims): UserContext | undefined {
  if (!claims.dezi_number) return undefined;
  return { deziNumber: claims.dezi_number, roleCode: claims.role_code ?? '', name: claims.name ?? '', ura: claims.sub };
}
