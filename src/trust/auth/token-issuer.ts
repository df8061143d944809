import { credentialTooLong } from '../../kit/http/credential-limits.ts';
import { type KeyObject, randomUUID } from 'node:crypto';
import { decodeProtectedHeader, errors, jwtVerify, SignJWT } from 'jose';
import type { Peer } from '../../kit/part.ts';
import type { Store } from '../../kit/store/store.ts';
import { ACCESS_TOKEN_TYPE, type AccessTokenClaims, type AuthorizationDetail, MAX_TOKEN_SECONDS, type UserContext } from './claims.ts';
import { CLIENT_ASSERTION_TYPE, JWT_BEARER_GRANT, MAX_ASSERTION_SECONDS } from './client-assertion.ts';
import { JtiRegister, purgeExpiredJtis } from './jti.ts';
import { type SigningKey, webCryptoKeyOf } from './keys.ts';
import {
  invalidAuthorizationDetails,
  invalidClient,
  invalidGrant,
  invalidRequest,
  invalidScope,
  invalidTarget,
  OAuthError,
  unsupportedGrantType,
} from './oauth-error.ts';
import { verifyAccessToken } from './verify.ts';

// The decision of the token endpoint, apart from HTTP so that tests and the benchmark can
// drive it directly. Every check that fails throws an OAuthError with the RFC 6749 code.

export interface ClientContext {
  /** URA the client acts for (iss = sub of its assertion). */
  ura: string;
  peer: Peer;
}

export interface GrantContext {
  resource: string;
  user?: UserContext;
  /** RFC 9396 authorization_details of the request (parsed, not yet granted). */
  authorizationDetails?: AuthorizationDetail[];
}

export interface TokenIssuerOptions {
  /** This authorisation server's issuer URL (a function when known only after listen). */
  issuer: string | (() => string);
  signingKey: SigningKey;
  store: Store;
  /** The subset of `requested` this client may hold for this resource; may throw an OAuthError. */
  scopesFor(client: ClientContext, requested: string[], context: GrantContext): Promise<string[]>;
  /** null when this certificate may act for this URA now; otherwise the reason it may not. */
  admit?(peer: Peer, ura: string): Promise<string | null>;
  /**
   * RFC 9396: the authorization_details this client is granted for this resource, passed into
   * the token. Throw an OAuthError (invalid_authorization_details) to refuse one. Without this
   * option a request carrying authorization_details is refused.
   */
  authorizationDetailsFor?(client: ClientContext, details: AuthorizationDetail[], context: GrantContext & { scopes: string[] }): Promise<AuthorizationDetail[]>;
  /** Verifies a professional's Dezi verklaring (jwt-bearer grant). Throw to refuse it. */
  verifyUserAssertion?(assertion: string, client: ClientContext): Promise<UserContext>;
  /** Access-token life in seconds; default and maximum 300. */
  tokenLifetimeSeconds?: number;
}

export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope: string;
  authorization_details?: AuthorizationDetail[];
}

const CLOCK_SKEW = 5;
const MAX_DETAILS = 4;
const MAX_DETAILS_CHARS = 4096;

/** RFC 9396 §2: a JSON array of objects, each with a string type; only the common string fields kept. */
export function parseAuthorizationDetails(raw: string | undefined): AuthorizationDetail[] | undefined {
  if (raw === undefined) return undefined;
  if (raw.length > MAX_DETAILS_CHARS) throw invalidAuthorizationDetails(`authorization_details is longer than ${MAX_DETAILS_CHARS} characters`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw invalidAuthorizationDetails('authorization_details is not JSON');
  }
  if (!Array.isArray(parsed) || parsed.length === 0 || parsed.length > MAX_DETAILS) {
    throw invalidAuthorizationDetails(`authorization_details must be a JSON array of 1 to ${MAX_DETAILS} objects`);
  }
  const strings = (v: unknown, field: string): string[] | undefined => {
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || v.length > 8 || !v.every((x) => typeof x === 'string' && x.length > 0 && x.length <= 512)) {
      throw invalidAuthorizationDetails(`authorization_details ${field} must be an array of strings`);
    }
    return v as string[];
  };
  return parsed.map((d) => {
    if (typeof d !== 'object' || d === null || Array.isArray(d)) throw invalidAuthorizationDetails('each authorization_details entry must be an object');
    const o = d as Record<string, unknown>;
    if (typeof o.type !== 'string' || !o.type || o.type.length > 256) throw invalidAuthorizationDetails('each authorization_details entry needs a type');
    if (o.identifier !== undefined && (typeof o.identifier !== 'string' || !o.identifier || o.identifier.length > 256)) {
      throw invalidAuthorizationDetails('authorization_details identifier must be a string');
    }
    const out: AuthorizationDetail = { type: o.type };
    if (o.identifier !== undefined) out.identifier = o.identifier as string;
    const locations = strings(o.locations, 'locations');
    if (locations) out.locations = locations;
    const actions = strings(o.actions, 'actions');
    if (actions) out.actions = actions;
    return out;
  });
}
const PURGE_EVERY = 500;

export const defaultAdmit = async (peer: Peer, ura: string): Promise<string | null> =>
  peer.ura && peer.ura === ura ? null : `certificate is not issued to URA ${ura}`;

function checkResource(resource: string | undefined): string {
  if (!resource) throw invalidTarget('resource (RFC 8707) naming the target base URL is required');
  let url: URL;
  try {
    url = new URL(resource);
  } catch {
    throw invalidTarget('resource is not an absolute URL');
  }
  if (url.protocol !== 'https:' || url.hash || url.search) throw invalidTarget('resource must be an https URL without query or fragment');
  return resource.endsWith('/') ? resource.slice(0, -1) : resource;
}

// X509Certificate.publicKey makes a new KeyObject on every access, and jose would convert
// it on every verification: keep one ready key per certificate.
const certificateKeys = new WeakMap<Peer['certificate'], Promise<CryptoKey | KeyObject>>();
function publicKeyOf(peer: Peer): Promise<CryptoKey | KeyObject> {
  let key = certificateKeys.get(peer.certificate);
  if (!key) {
    key = webCryptoKeyOf(peer.certificate.publicKey);
    certificateKeys.set(peer.certificate, key);
  }
  return key;
}

export class TokenIssuer {
  private grants = 0;
  private readonly jtis: JtiRegister;

  constructor(readonly options: TokenIssuerOptions) {
    this.jtis = new JtiRegister(options.store);
  }

  get issuer(): string {
    const i = this.options.issuer;
    return typeof i === 'function' ? i() : i;
  }

  get tokenEndpoint(): string {
    return `${this.issuer}/oauth/token`;
  }

  /** Handles one token request (form parameters) from the TLS peer that sent it. */
  async grant(params: Record<string, string>, peer: Peer | undefined): Promise<TokenResponse> {
    if (!peer) throw invalidClient('a network client certificate is required (mutual TLS)');
    const grantType = params.grant_type;
    if (grantType !== 'client_credentials' && grantType !== JWT_BEARER_GRANT) {
      throw unsupportedGrantType(`grant_type must be client_credentials or ${JWT_BEARER_GRANT}`);
    }
    const { client, fresh } = await this.authenticate(params, peer);
    try {
      return await this.decide(params, grantType, client, fresh);
    } catch (err) {
      // A replayed assertion is refused as such, whatever else is wrong with the request.
      if (!(await fresh.catch(() => true))) throw invalidClient('client_assertion jti was used before');
      throw err;
    }
  }

  private async decide(params: Record<string, string>, grantType: string, client: ClientContext, fresh: Promise<boolean>): Promise<TokenResponse> {
    const resource = checkResource(params.resource ?? params.target_audience);
    const requested = (params.scope ?? '').split(' ').filter(Boolean);
    if (requested.length === 0) throw invalidScope('scope is required');
    const authorizationDetails = parseAuthorizationDetails(params.authorization_details);

    let user: UserContext | undefined;
    if (grantType === JWT_BEARER_GRANT) {
      if (!params.assertion) throw invalidRequest('assertion (the Dezi verklaring) is required for the jwt-bearer grant');
      if (!this.options.verifyUserAssertion) throw unsupportedGrantType('this server accepts no user assertions');
      const tooLong = credentialTooLong('assertion (the Dezi verklaring)', params.assertion);
      if (tooLong) throw invalidGrant(tooLong);
      try {
        user = await this.options.verifyUserAssertion(params.assertion, client);
      } catch (err) {
        throw err instanceof OAuthError ? err : invalidGrant(`verklaring refused: ${(err as Error).message}`);
      }
      if (user.ura !== client.ura) throw invalidGrant('verklaring was issued for another organisation');
    }

    const allowed = new Set(await this.options.scopesFor(client, requested, { resource, user, authorizationDetails }));
    const refused = requested.filter((s) => !allowed.has(s));
    if (refused.length > 0) throw invalidScope(`scope not allowed for this participant: ${refused.join(' ')}`);

    let details: AuthorizationDetail[] | undefined;
    if (authorizationDetails) {
      if (!this.options.authorizationDetailsFor) throw invalidAuthorizationDetails('this server grants no authorization_details');
      details = await this.options.authorizationDetailsFor(client, authorizationDetails, { resource, user, authorizationDetails, scopes: requested });
    }

    const life = Math.min(this.options.tokenLifetimeSeconds ?? MAX_TOKEN_SECONDS, MAX_TOKEN_SECONDS);
    const access_token = await this.sign(client, resource, requested.join(' '), life, user, details);
    // The replay check ran in the store while the token was being signed; a replay's token is dropped.
    if (!(await fresh)) throw invalidClient('client_assertion jti was used before');
    return { access_token, token_type: 'Bearer', expires_in: life, scope: requested.join(' '), ...(details ? { authorization_details: details } : {}) };
  }

  /** private_key_jwt over mutual TLS: the assertion must be signed by the TLS certificate's key. */
  private async authenticate(params: Record<string, string>, peer: Peer): Promise<{ client: ClientContext; fresh: Promise<boolean> }> {
    if (params.client_assertion_type !== CLIENT_ASSERTION_TYPE || !params.client_assertion) {
      throw invalidClient('client authentication by private_key_jwt (client_assertion) is required');
    }
    const assertion = params.client_assertion;
    const tooLong = credentialTooLong('client_assertion', assertion);
    if (tooLong) throw invalidClient(tooLong);
    let header: ReturnType<typeof decodeProtectedHeader>;
    try {
      header = decodeProtectedHeader(assertion);
    } catch {
      throw invalidClient('client_assertion is not a JWS');
    }
    const alg = header.alg;
    if (alg !== 'ES256' && alg !== 'RS256') throw invalidClient('client_assertion alg must be ES256 or RS256');
    if (!Array.isArray(header.x5c) || typeof header.x5c[0] !== 'string') throw invalidClient('client_assertion header lacks x5c');
    if (header.x5c[0] !== peer.der.toString('base64')) {
      throw invalidClient('client_assertion x5c leaf is not the TLS client certificate');
    }
    let claims: { iss?: string; sub?: string; exp?: number; iat?: number; jti?: string; cnf?: { 'x5t#S256'?: string } };
    try {
      const verified = await jwtVerify(assertion, await publicKeyOf(peer), {
        algorithms: [alg],
        audience: this.tokenEndpoint,
        requiredClaims: ['iss', 'sub', 'exp', 'iat', 'jti'],
        clockTolerance: CLOCK_SKEW,
        maxTokenAge: MAX_ASSERTION_SECONDS + CLOCK_SKEW,
      });
      claims = verified.payload;
    } catch (err) {
      throw invalidClient(describeAssertionError(err));
    }
    const now = Math.floor(Date.now() / 1000);
    if (claims.iss !== claims.sub) throw invalidClient('client_assertion iss and sub differ');
    const ura = claims.iss ?? '';
    if (!/^\d{1,12}$/.test(ura)) throw invalidClient('client_assertion iss must be a URA');
    if ((claims.exp ?? 0) - now > MAX_ASSERTION_SECONDS + CLOCK_SKEW || (claims.exp ?? 0) - (claims.iat ?? 0) > MAX_ASSERTION_SECONDS) {
      throw invalidClient('client_assertion lives longer than 5 minutes');
    }
    if (claims.cnf?.['x5t#S256'] !== peer.thumbprint) throw invalidClient('client_assertion cnf.x5t#S256 does not name the TLS certificate');
    const reason = await (this.options.admit ?? defaultAdmit)(peer, ura);
    if (reason) throw invalidClient(`participant refused: ${reason}`);
    const fresh = this.jtis.consume(ura, String(claims.jti), new Date(((claims.exp ?? now) + CLOCK_SKEW) * 1000));
    fresh.catch(() => {}); // awaited by grant(); this only keeps an early refusal from leaving it unhandled
    if (++this.grants % PURGE_EVERY === 0) void purgeExpiredJtis(this.options.store).catch(() => {});
    return { client: { ura, peer }, fresh };
  }

  private sign(client: ClientContext, resource: string, scope: string, life: number, user?: UserContext, details?: AuthorizationDetail[]): Promise<string> {
    const key = this.options.signingKey;
    const claims: Partial<AccessTokenClaims> = {
      scope,
      client_id: client.ura,
      cnf: { 'x5t#S256': client.peer.thumbprint },
    };
    if (user) Object.assign(claims, { dezi_number: user.deziNumber, role_code: user.roleCode, name: user.name });
    if (details?.length) claims.authorization_details = details;
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT(claims)
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: ACCESS_TOKEN_TYPE })
      .setIssuer(this.issuer)
      .setSubject(client.ura)
      .setAudience(resource)
      .setIssuedAt(now)
      .setExpirationTime(now + life)
      .setJti(randomUUID())
      .sign(key.privateKey);
  }

  /** RFC 7662: whether a token this server issued is active, and its claims. */
  async introspect(token: string): Promise<Record<string, unknown>> {
    try {
      const claims = await verifyAccessToken(token, {
        issuer: this.issuer,
        jwks: this.options.signingKey.publicKey,
        audience: '',
        peer: undefined,
        unbound: true,
      });
      return { active: true, token_type: 'Bearer', ...claims };
    } catch {
      return { active: false };
    }
  }
}

function describeAssertionError(err: unknown): string {
  if (err instanceof errors.JWTExpired) return 'client_assertion expired';
  if (err instanceof errors.JWTClaimValidationFailed) return `client_assertion claim "${err.claim}" is not acceptable (${err.reason})`;
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'client_assertion signature does not verify with the certificate key';
  if (err instanceof errors.JOSEError) return `client_assertion refused: ${err.message}`;
  return 'client_assertion could not be verified';
}
