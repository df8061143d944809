import type { FastifyInstance, preHandlerAsyncHookHandler } from 'fastify';
import { HttpError } from '../kit/fhir/outcome.ts';
import { PartClient } from '../kit/http/client.ts';
import type { PartContext } from '../kit/part.ts';
import { configureTokenVerification, requireToken, type TokenVerification, trustVerification } from '../trust/auth/index.ts';

// Access-token enforcement for the PRS and NVI, on top of mutual TLS:
//   'auto'     (default) tokens from the trust part's authorisation server when the network has
//              a trust part; without one, mTLS only, announced with a loud warning at start-up;
//   'required' deny every protected call when no verification is configured;
//   'off'      mTLS only (benchmarks and unit tests of the domain logic).

export type TokenMode = 'auto' | 'required' | 'off';

export interface TokenGuardOptions {
  mode?: TokenMode;
  /** Explicit verification (tests with their own authorisation server). */
  verification?: TokenVerification;
}

export function tokenGuard(app: FastifyInstance, ctx: PartContext, options: TokenGuardOptions = {}): (scope: string) => preHandlerAsyncHookHandler {
  const mode = options.mode ?? (ctx.settings.TOKENS as TokenMode | undefined) ?? 'auto';
  if (mode === 'off') {
    ctx.log.warn({ event: 'tokens.off' }, `${ctx.name}: ACCESS TOKENS NOT ENFORCED (mode off): mutual TLS only`);
    return () => async () => {};
  }
  let configured = false;
  let client: PartClient | undefined;
  const configure = (): boolean => {
    if (configured) return true;
    if (options.verification) configureTokenVerification(app, options.verification);
    else if (ctx.network.has('trust')) {
      client = new PartClient({ tls: ctx.tls });
      configureTokenVerification(app, trustVerification({ trustUrl: ctx.network.url('trust'), client, audience: () => ctx.baseUrl }));
    } else return false;
    configured = true;
    return true;
  };
  if (!configure()) {
    ctx.log.warn({ event: 'tokens.unavailable' }, `${ctx.name}: no trust part in the network yet; ACCESS TOKENS NOT ENFORCED until one appears (mode ${mode})`);
  }
  app.addHook('onClose', async () => client?.close());
  return (scope) => {
    const guard = requireToken({ scope });
    return async function tokenCheck(request, reply) {
      if (!configure()) {
        if (mode === 'required') throw new HttpError(503, 'transient', 'access tokens cannot be verified: no authorisation server configured');
        return;
      }
      await guard.call(this, request, reply);
    };
  };
}
