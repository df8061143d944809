import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HttpError } from '../../kit/fhir/outcome.ts';
import type { CitizenApp, ExchangeDefinition } from '../../trust/contract.ts';
import type { CitizenSession } from '../citizen/routes.ts';
import type { Sessions } from '../sessions.ts';
import { CONTENT_SECURITY_POLICY, csrfMatches, PageError, sendPage } from '../ui/web.ts';
import { languageOf } from '../ui/i18n.ts';
import type { AppRegister } from './app-register.ts';
import type { GrantStore } from './grant-store.ts';
import { APPS_BASE, type AppFrame, appsPage, grantErrorPage, grantPage, words } from './pages.ts';
import { grantedScopes, requestedAccess, SHARE_PERMISSION } from './scopes.ts';

// The authorisation endpoint (OAuth 2.1 authorization code with PKCE S256, SMART standalone
// patient launch) and "my apps". The citizen is the one logged in to the portal (DigiD-like);
// one who is not is sent through the login and back. A request naming an unknown, suspended or
// revoked app, or a redirect URI the app did not register, is never redirected (RFC 9700 §4.11).

export interface AuthorizeDeps {
  sessions: Sessions<CitizenSession>;
  register: AppRegister;
  grants: GrantStore;
  exchange(): Promise<ExchangeDefinition>;
  /** The FHIR base the app may name as `aud`. */
  fhirBase(): string;
  issuer(): string;
  assetBase: string;
}

const PARAMS = ['response_type', 'client_id', 'redirect_uri', 'scope', 'state', 'code_challenge', 'code_challenge_method', 'aud'] as const;
const PKCE_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

type AuthParams = Record<(typeof PARAMS)[number], string>;

function paramsOf(source: unknown): AuthParams {
  const q = (source ?? {}) as Record<string, unknown>;
  const out = {} as AuthParams;
  for (const k of PARAMS) out[k] = typeof q[k] === 'string' ? (q[k] as string).slice(0, 2000) : '';
  return out;
}

function redirectWith(reply: FastifyReply, p: AuthParams, values: Record<string, string>, issuer: string, method: 'get' | 'post') {
  const url = new URL(p.redirect_uri);
  for (const [k, v] of Object.entries(values)) url.searchParams.set(k, v);
  if (p.state) url.searchParams.set('state', p.state);
  url.searchParams.set('iss', issuer); // RFC 9207: the app can tell which server answered
  return reply.redirect(url.href, method === 'post' ? 303 : 302);
}

export function registerAppAuthorization(app: FastifyInstance, deps: AuthorizeDeps): void {
  const frame = (request: FastifyRequest, reply: FastifyReply, who?: { citizen: CitizenSession['citizen']; csrf: string }): AppFrame => ({
    lang: languageOf(request, reply),
    path: request.url.split('?')[0],
    assetBase: deps.assetBase,
    citizen: who?.citizen,
    csrf: who?.csrf,
  });
  const current = async (request: FastifyRequest) => {
    const s = await deps.sessions.load(request);
    return s?.data.citizen ? { citizen: s.data.citizen, csrf: s.data.csrf } : undefined;
  };

  /** The app and the checked request, or a reason to refuse without redirecting. */
  const checkClient = async (p: AuthParams): Promise<CitizenApp | undefined> => {
    if (!p.client_id || !p.redirect_uri) return undefined;
    const found = await deps.register.find(p.client_id).catch((err) => {
      throw new PageError(err instanceof HttpError ? err.status : 503, 'common.error');
    });
    if (!found || found.status !== 'active' || !found.redirectUris.includes(p.redirect_uri)) return undefined;
    return found;
  };
  /** Errors the app is told about at its redirect URI. */
  const requestError = (p: AuthParams): string | undefined => {
    if (p.response_type !== 'code') return 'unsupported_response_type';
    if (p.code_challenge_method !== 'S256' || !PKCE_CHALLENGE.test(p.code_challenge)) return 'invalid_request';
    if (p.aud && p.aud.replace(/\/$/, '') !== deps.fhirBase()) return 'invalid_request';
    return undefined;
  };

  app.get(`${APPS_BASE}/authorize`, async (request, reply) => {
    const p = paramsOf(request.query);
    const client = await checkClient(p);
    if (!client) return sendPage(reply, grantErrorPage(frame(request, reply)), 400);
    const error = requestError(p);
    if (error) return redirectWith(reply, p, { error }, deps.issuer(), 'get');
    const who = await current(request);
    if (!who) return reply.redirect(`/citizen/login?next=${encodeURIComponent(request.url)}`);
    const asked = requestedAccess(p.scope, client.scopes, await deps.exchange());
    if (asked.categories.length === 0 && !asked.share) return redirectWith(reply, p, { error: 'invalid_scope' }, deps.issuer(), 'get');
    // The form's answer redirects to the app: allow that origin as a form target (CSP form-action).
    reply.header('content-security-policy', CONTENT_SECURITY_POLICY.replace("form-action 'self'", `form-action 'self' ${new URL(p.redirect_uri).origin}`));
    return sendPage(
      reply,
      grantPage(frame(request, reply, who), { appName: client.name, vendor: client.vendor, categories: asked.categories, share: asked.share, params: p }),
    );
  });

  app.post(`${APPS_BASE}/authorize`, async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, unknown>;
    const who = await current(request);
    if (!who) throw new PageError(401, 'common.notLoggedIn');
    if (!csrfMatches(who.csrf, body.csrf)) throw new PageError(403, 'common.csrf');
    const p = paramsOf(body);
    const client = await checkClient(p);
    if (!client) return sendPage(reply, grantErrorPage(frame(request, reply, who)), 400);
    const error = requestError(p);
    if (error) return redirectWith(reply, p, { error }, deps.issuer(), 'post');
    if (body.decision !== 'allow') return redirectWith(reply, p, { error: 'access_denied', error_description: 'the citizen refused' }, deps.issuer(), 'post');
    const exchange = await deps.exchange();
    const asked = requestedAccess(p.scope, client.scopes, exchange);
    const chosen = new Set(([] as unknown[]).concat(body.category ?? []).filter((c): c is string => typeof c === 'string'));
    const categories = asked.categories.filter((c) => chosen.has(c));
    const share = asked.share && chosen.has(SHARE_PERMISSION);
    if (categories.length === 0 && !share) {
      const f = frame(request, reply, who);
      return sendPage(
        reply,
        grantPage(f, { appName: client.name, vendor: client.vendor, categories: asked.categories, share: asked.share, params: p, error: words(f.lang)('nothing') }),
        400,
      );
    }
    const scopes = grantedScopes(p.scope, { categories, share, other: asked.other }, exchange);
    const citizen = who.citizen!;
    const { code } = await deps.grants.createGrant({
      clientId: client.clientId,
      appName: client.name,
      bsn: citizen.bsn,
      loa: citizen.loa ?? 'unknown',
      categories,
      scopes,
      redirectUri: p.redirect_uri,
      codeChallenge: p.code_challenge,
    });
    return redirectWith(reply, p, { code }, deps.issuer(), 'post');
  });

  app.get(APPS_BASE, async (request, reply) => {
    const who = await current(request);
    if (!who) return reply.redirect('/citizen/');
    const grants = await deps.grants.grantsOf(who.citizen!.bsn);
    return sendPage(reply, appsPage(frame(request, reply, who), grants, (request.query as Record<string, string>).saved === '1'));
  });

  app.post<{ Params: { id: string } }>(`${APPS_BASE}/:id/revoke`, async (request, reply) => {
    const who = await current(request);
    if (!who) throw new PageError(401, 'common.notLoggedIn');
    if (!csrfMatches(who.csrf, (request.body as Record<string, unknown> | undefined)?.csrf)) throw new PageError(403, 'common.csrf');
    // Only her own grant: looked up among hers, never by id alone.
    const mine = (await deps.grants.grantsOf(who.citizen!.bsn)).find((g) => g.id === request.params.id);
    if (!mine) throw new PageError(404, 'common.badRequest');
    await deps.grants.revoke(mine.id, 'citizen');
    return reply.redirect(`${APPS_BASE}?saved=1`, 303);
  });
}
