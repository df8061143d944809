import type { FastifyInstance, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import { HttpError } from '../../kit/fhir/outcome.ts';
import type { AccessTokenClaims } from './claims.ts';
import { type KeySource, TokenRefusal, verifyAccessToken } from './verify.ts';

// The resource-server guard every part puts in front of its protected routes:
//   configureTokenVerification(app, { issuer, jwks, audience: () => ctx.baseUrl });
//   app.get('/x', { preHandler: requireToken({ scope: 'nvi:read' }) }, handler)
// Refusals are OperationOutcomes (401 invalid_token, 403 insufficient_scope) with a
// WWW-Authenticate header (RFC 6750 §3), and each is logged with its reason.

declare module 'fastify' {
  interface FastifyRequest {
    /** Claims of the verified access token (set by requireToken). */
    token?: AccessTokenClaims;
  }
  interface FastifyInstance {
    ldnTokenVerification?: TokenVerification;
  }
}

export interface TokenVerification {
  issuer: string | (() => string);
  jwks: KeySource;
  /** This part's base URL (a function when it is known only after listen). */
  audience: string | (() => string);
}

const resolve = (v: string | (() => string)): string => (typeof v === 'function' ? v() : v);

export function configureTokenVerification(app: FastifyInstance, config: TokenVerification): void {
  if (app.hasDecorator('ldnTokenVerification')) app.ldnTokenVerification = config;
  else app.decorate('ldnTokenVerification', config);
}

export interface RequireTokenOptions {
  scope?: string;
  /** Overrides the configured audience (e.g. a node serving several organisations' endpoints). */
  audience?: string | (() => string);
  /** Overrides configureTokenVerification (when a part verifies tokens of several issuers). */
  verification?: TokenVerification;
}

function bearerOf(request: FastifyRequest): string | null {
  const h = request.headers.authorization;
  if (!h) return null;
  const m = /^Bearer ([A-Za-z0-9._~+/-]+=*)$/.exec(h);
  return m ? m[1] : '';
}

export function requireToken(options: RequireTokenOptions = {}): preHandlerAsyncHookHandler {
  return async function tokenGuard(request) {
    const config = options.verification ?? request.server.ldnTokenVerification;
    if (!config) throw new HttpError(500, 'exception', 'token verification is not configured for this part');
    const token = bearerOf(request);
    try {
      if (token === null) throw new TokenRefusal(401, 'invalid_token', 'an access token (Authorization: Bearer) is required');
      if (token === '') throw new TokenRefusal(401, 'invalid_request', 'malformed Authorization header');
      request.token = await verifyAccessToken(token, {
        issuer: resolve(config.issuer),
        jwks: config.jwks,
        audience: resolve(options.audience ?? config.audience),
        requiredScope: options.scope,
        peer: request.peer,
      });
    } catch (err) {
      if (!(err instanceof TokenRefusal)) throw err;
      request.log.warn({ event: 'token.refused', error: err.error, reason: err.message, peer: request.peer?.ura, url: request.url.split('?')[0] }, 'access token refused');
      throw err;
    }
  };
}
