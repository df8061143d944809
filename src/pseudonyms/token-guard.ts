import type { FastifyInstance, preHandlerAsyncHookHandler } from 'fastify';
import { HttpError } from '../kit/fhir/outcome.ts';
import { PartClient } from '../kit/http/client.ts';
import { TOKENS_SETTING } from '../kit/common-settings.ts';
import type { PartContext } from '../kit/part.ts';
import { readSettings } from '../kit/part-settings.ts';
import { configureTokenVerification, requireToken, type TokenVerification, trustVerification } from '../trust/contract.ts';

// Access-token enforcement for the PRS and NVI, on top of mutual TLS:
//   'required' (default) tokens from the trust part's authorisation server; while the network
//              has no trust part (yet), every protected call is denied with 503 (deny on error);
//   'off'      mTLS only (benchmarks and unit tests of the domain logic), announced loudly.

export type TokenMode = 'required' | 'off';

export interface TokenGuardOptions {
  mode?: TokenMode;
  /** Explicit verification (tests with their own authorisation server). */
  verification?: TokenVerification;
}

export function tokenGuard(app: FastifyInstance, ctx: PartContext, options: TokenGuardOptions = {}): (scope: string) => preHandlerAsyncHookHandler {
  const mode = options.mode ?? (readSettings(ctx.name, [TOKENS_SETTING], ctx.settings).string(TOKENS_SETTING.name) as TokenMode);
  if (mode !== 'required' && mode !== 'off') throw new Error(`${ctx.name}: TOKENS must be required or off, not ${JSON.stringify(mode)}`);
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
    ctx.log.warn({ event: 'tokens.unavailable' }, `${ctx.name}: no trust part in the network yet; protected calls are refused (503) until one appears`);
  }
  app.addHook('onClose', async () => client?.close());
  return (scope) => {
    const guard = requireToken({ scope });
    return async function tokenCheck(request, reply) {
      if (!configure()) throw new HttpError(503, 'transient', 'access tokens cannot be verified: no authorisation server configured');
      await guard.call(this, request, reply);
    };
  };
}
