import type { TLSSocket } from 'node:tls';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { LdnError } from '../../kit/errors.ts';
import { JWT_BEARER_GRANT } from './client-assertion.ts';
import { publicJwks, type SigningKey } from './keys.ts';
import { invalidClient, invalidRequest, OAuthError } from './oauth-error.ts';
import { TokenIssuer, type TokenIssuerOptions } from './token-issuer.ts';

// The HTTP face of an authorisation server: POST /oauth/token, POST /oauth/introspect (RFC 7662),
// metadata (RFC 8414) and the JWKS. Used by the trust part for the central parts and by nodes
// for their own resources. The token endpoint answers in OAuth JSON, so the part must list it
// among its public paths (AUTHORIZATION_SERVER_PUBLIC_PATHS) and it checks the certificate itself.

export const AUTHORIZATION_SERVER_PUBLIC_PATHS = ['/oauth/token', '/.well-known/oauth-authorization-server', '/.well-known/jwks.json'];

export interface TokenEndpointOptions extends TokenIssuerOptions {
  /** Scopes to advertise in the metadata (all the agreements define for this server's audience). */
  scopesSupported?: () => string[] | Promise<string[]>;
  /** RFC 9396 authorization_details types this server grants (advertised in the metadata). */
  authorizationDetailsTypes?: string[];
  /** Further keys to publish in the JWKS (e.g. the key that signs the trust framework's documents). */
  publishedKeys?: SigningKey[];
}

const FORM = 'application/x-www-form-urlencoded';
const TOKEN_REQUEST_BODY_LIMIT = 32 * 1024;

/** Form bodies where a repeated parameter is an error (RFC 6749 §3.2), not a silent pick. */
function parseForm(body: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(body)) {
    if (k in out) throw invalidRequest(`parameter ${k} is repeated`);
    out[k] = v;
  }
  return out;
}

function sendOAuthError(request: FastifyRequest, reply: FastifyReply, err: OAuthError): FastifyReply {
  request.log.warn({ event: 'oauth.refused', error: err.error, reason: err.description, peer: request.peer?.ura }, 'token request refused');
  if (err.status === 401) reply.header('www-authenticate', 'Bearer realm="ldn"');
  return reply.code(err.status).header('cache-control', 'no-store').type('application/json').send(err.body());
}

export async function registerTokenEndpoint(app: FastifyInstance, options: TokenEndpointOptions): Promise<TokenIssuer> {
  const issuer = new TokenIssuer(options);

  app.get('/.well-known/oauth-authorization-server', async () => ({
    issuer: issuer.issuer,
    token_endpoint: issuer.tokenEndpoint,
    introspection_endpoint: `${issuer.issuer}/oauth/introspect`,
    jwks_uri: `${issuer.issuer}/.well-known/jwks.json`,
    grant_types_supported: ['client_credentials', ...(options.verifyUserAssertion ? [JWT_BEARER_GRANT] : [])],
    token_endpoint_auth_methods_supported: ['private_key_jwt'],
    token_endpoint_auth_signing_alg_values_supported: ['ES256', 'RS256'],
    introspection_endpoint_auth_methods_supported: ['tls_client_auth'],
    tls_client_certificate_bound_access_tokens: true,
    // RFC 8414 §2 makes response_types_supported REQUIRED (authlib refuses an empty list). This
    // server has no authorization endpoint; 'token' is the only response it gives (§3.2 of RFC 6749).
    response_types_supported: ['token'],
    service_documentation: `${issuer.issuer}/openapi.json`,
    scopes_supported: [...new Set(await (options.scopesSupported?.() ?? []))].sort(),
    ...(options.authorizationDetailsTypes?.length ? { authorization_details_types_supported: options.authorizationDetailsTypes } : {}),
  }));
  app.get('/.well-known/jwks.json', async (_req, reply) =>
    reply.header('cache-control', 'public, max-age=300').send(publicJwks([options.signingKey, ...(options.publishedKeys ?? [])])),
  );

  await app.register(async (scoped) => {
    if (!scoped.hasContentTypeParser(FORM)) {
      scoped.addContentTypeParser(FORM, { parseAs: 'string' }, (_req, body, done) => {
        try {
          done(null, parseForm(body as string));
        } catch (err) {
          done(err as Error, undefined);
        }
      });
    }
    scoped.setErrorHandler((err: FastifyError | OAuthError, request, reply) => {
      if (err instanceof OAuthError) return sendOAuthError(request, reply, err);
      if (err instanceof LdnError) throw err;
      const status = (err as FastifyError).statusCode ?? 500;
      if (status >= 400 && status < 500) return sendOAuthError(request, reply, invalidRequest(err.message));
      // RFC 6749 has no code for our own failure: server_error, as in the authorization response.
      request.log.error({ err }, 'token endpoint failed');
      return reply.code(500).header('cache-control', 'no-store').send({ error: 'server_error', error_description: 'internal error; see the server log' });
    });

    // A token request is a few kB of form fields; the credential limits are checked per field.
    scoped.post('/oauth/token', { bodyLimit: TOKEN_REQUEST_BODY_LIMIT }, async (request, reply) => {
      if (!(request.headers['content-type'] ?? '').startsWith(FORM)) throw invalidRequest(`the token request must be ${FORM}`);
      if (!request.peer) {
        const socket = request.raw.socket as TLSSocket;
        const why = socket.authorizationError ? String(socket.authorizationError) : 'none presented';
        throw invalidClient(`a network client certificate is required (${why})`);
      }
      const result = await issuer.grant((request.body ?? {}) as Record<string, string>, request.peer);
      request.log.info({ event: 'oauth.token.issued', ura: request.peer.ura, scope: result.scope }, 'token issued');
      return reply.header('cache-control', 'no-store').header('pragma', 'no-cache').send(result);
    });

    // Introspection is for network participants only; the kit has already required the
    // certificate (this path is not public), so refusals here are OperationOutcomes.
    scoped.post('/oauth/introspect', async (request, reply) => {
      const token = (request.body as Record<string, string> | undefined)?.token;
      if (!token) throw invalidRequest('token is required');
      return reply.header('cache-control', 'no-store').send(await issuer.introspect(token));
    });
  });
  return issuer;
}
