import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isValidBsn } from '../../kit/identifiers/bsn.ts';
import { acceptedEmergencyReason } from '../../kit/rules/emergency-reason.ts';
import { callbackUrlOf, type LoginProvider, type OidcSettings, openIdLogin, type PendingLogin } from '../oidc.ts';
import type { ClinicianIdentity, ExchangeOption, ForeignSummaryPort, OverviewPort } from '../ports.ts';
import { MemorySessionStore, type SessionStore, Sessions } from '../sessions.ts';
import { interpretationWording, kindWording, type Lang, languageOf, statusWording, translator } from '../ui/i18n.ts';
import { csrfMatches, installErrorPage, installWebKit, PageError, sendPage } from '../ui/web.ts';
import { extraSections, type ImagePreviewPort, registerImagePreviewRoute } from './extra-sections.ts';
import { registerForeignSummaryRoutes } from './foreign-routes.ts';
import { clinicianFromLogin } from './identity.ts';
import { overviewModel } from './overview-model.ts';
import { failedOverviewPage, loginPage, overviewPage, searchPage, type ViewerFrame } from './pages.ts';

// The clinician viewer as a Fastify plugin a participant node mounts for its own clinicians:
// login through the Dezi-like provider, search a patient by BSN, the overview for an exchange,
// emergency access with a mandatory reason, logout. Register it in its own scope, e.g.
//   await app.register((scope) => clinicianViewerPlugin(scope, opts));
// and declare opts.basePath as a public path of the node (browsers carry no client certificate).

export interface ClinicianViewerOptions {
  /** Where the viewer lives, e.g. '/viewer' (no trailing slash). */
  basePath: string;
  /** The Dezi-like provider (openid-client settings), or a ready LoginProvider (tests). */
  oidc: OidcSettings | LoginProvider;
  overview: OverviewPort;
  /** Exchanges from the agreements document that this clinician may request; acute care is listed first. */
  exchanges: ExchangeOption[] | ((who: ClinicianIdentity) => ExchangeOption[]);
  sessions?: SessionStore;
  /** Whether this node serves the organisation (URA) a clinician logs in for; absent: any. */
  servesOrganisation?: (ura: string) => boolean;
  /** False only for plain-HTTP tests. */
  secureCookies?: boolean;
  sessionTtlSeconds?: number;
  /** Rendered image previews through the node (extra-sections.ts); without it no preview route. */
  imagePreview?: ImagePreviewPort;
  /** Whether an exchange's overview has an images section. */
  coversImages?: (exchange: string) => boolean;
  /** Where this viewer's handovers page is (notified pull, e.g. '/viewer/overdrachten'); linked from every page once logged in. */
  handoversPath?: string;
  /** NCPeH-NL through the node: the "patient from abroad" search at <basePath>/buitenland (foreign-routes.ts). */
  foreignSummary?: ForeignSummaryPort;
}

interface ViewerSession {
  pending?: PendingLogin;
  identity?: ClinicianIdentity;
}

const ACUTE = 'acute-zorg';

function orderExchanges(list: ExchangeOption[]): ExchangeOption[] {
  return [...list].sort((a, b) => (a.code === ACUTE ? -1 : b.code === ACUTE ? 1 : 0));
}

const isLoginProvider = (x: OidcSettings | LoginProvider): x is LoginProvider => typeof (x as LoginProvider).begin === 'function';

export async function clinicianViewerPlugin(app: FastifyInstance, opts: ClinicianViewerOptions): Promise<void> {
  const base = opts.basePath.replace(/\/$/, '');
  const login = isLoginProvider(opts.oidc) ? opts.oidc : openIdLogin(opts.oidc);
  const redirectUri = isLoginProvider(opts.oidc) ? undefined : opts.oidc.redirectUri;
  const sessions = new Sessions<ViewerSession>(opts.sessions ?? new MemorySessionStore(), {
    cookieName: 'ldn_viewer',
    cookiePath: base || '/',
    secureCookies: opts.secureCookies,
    ttlSeconds: opts.sessionTtlSeconds ?? 8 * 3600,
  });
  const exchanges = (who: ClinicianIdentity) => orderExchanges(typeof opts.exchanges === 'function' ? opts.exchanges(who) : opts.exchanges);

  await installWebKit(app, `${base}/assets`);
  installErrorPage(app, { portal: (lang) => translator(lang)('clin.title'), home: `${base}/`, assetBase: `${base}/assets` });

  const frameOf = (request: FastifyRequest, reply: FastifyReply, lang?: Lang, user?: ViewerFrame['user']): ViewerFrame => ({
    lang: lang ?? languageOf(request, reply, base || '/'),
    basePath: base,
    path: request.url.split('?')[0],
    user,
    handoversPath: opts.handoversPath,
    foreignPath: opts.foreignSummary ? `${base}/buitenland` : undefined,
  });

  /** The logged-in clinician, or a redirect to the login page. */
  async function requireClinician(request: FastifyRequest) {
    const s = await sessions.load(request);
    if (!s?.data.identity) throw new PageError(401, 'common.notLoggedIn');
    return { id: s.id, identity: s.data.identity, csrf: s.data.csrf };
  }

  app.get(`${base}/`, async (request, reply) => {
    const s = await sessions.load(request);
    if (s?.data.identity) return reply.redirect(`${base}/search`);
    return sendPage(reply, loginPage(frameOf(request, reply)));
  });

  app.get(`${base}/login`, async (request, reply) => {
    const { url, pending } = await login.begin();
    const old = await sessions.load(request);
    if (old) await sessions.destroy(reply, old.id);
    await sessions.create(reply, { pending });
    return reply.redirect(url);
  });

  app.get(`${base}/callback`, async (request, reply) => {
    const s = await sessions.load(request);
    const f = frameOf(request, reply);
    const t = translator(f.lang);
    if (!s?.data.pending) return sendPage(reply, loginPage(f, t('common.loginFailed')), 400);
    try {
      const current = redirectUri ? callbackUrlOf(redirectUri, request.url) : new URL(request.url, 'https://viewer.invalid');
      const result = await login.complete(current, s.data.pending);
      await sessions.destroy(reply, s.id);
      const identity = clinicianFromLogin(result);
      // A professional of an organisation this node does not serve gets a clear refusal, not an empty form.
      if (opts.servesOrganisation && !(identity.ura && opts.servesOrganisation(identity.ura))) {
        return sendPage(reply, loginPage(f, t('clin.otherOrganisation', { organisation: identity.organizationName ?? identity.ura ?? '?' })), 403);
      }
      await sessions.create(reply, { identity });
      return reply.redirect(`${base}/search`);
    } catch (err) {
      request.log.warn({ err }, 'clinician login failed');
      await sessions.destroy(reply, s.id);
      return sendPage(reply, loginPage(f, t('common.loginFailed')), 401);
    }
  });

  app.get(`${base}/search`, async (request, reply) => {
    const who = await requireClinician(request).catch(() => undefined);
    if (!who) return reply.redirect(`${base}/`);
    return sendPage(reply, searchPage(frameOf(request, reply, undefined, { identity: who.identity, csrf: who.csrf }), exchanges(who.identity)));
  });

  // The overview is the answer to a POST (the BSN stays out of URLs); its language toggle is a
  // GET here: remember the language and go back to the search, rather than fetch the patient's
  // data again (which would be a second access in the citizen's log).
  app.get(`${base}/overview`, async (request, reply) => {
    languageOf(request, reply, base || '/');
    return reply.redirect(`${base}/search`);
  });

  app.post(`${base}/overview`, async (request, reply) => {
    const who = await requireClinician(request);
    const body = (request.body ?? {}) as Record<string, unknown>;
    if (!csrfMatches(who.csrf, body.csrf)) throw new PageError(403, 'common.csrf');
    const f = frameOf(request, reply, undefined, { identity: who.identity, csrf: who.csrf });
    const t = translator(f.lang);
    const bsn = typeof body.bsn === 'string' ? body.bsn.trim() : '';
    const code = typeof body.exchange === 'string' ? body.exchange : '';
    const list = exchanges(who.identity);
    const exchange = list.find((x) => x.code === code);
    if (!isValidBsn(bsn)) {
      return sendPage(reply, searchPage(f, list, { bsn: bsn.slice(0, 20), exchange: code, bsnError: t('clin.bsnInvalid') }), 400);
    }
    if (!exchange) return sendPage(reply, searchPage(f, list, { bsn, formError: t('clin.unknownExchange') }), 400);

    let emergencyReason: string | undefined;
    if (body.emergency !== undefined) {
      if (!exchange.emergencyAccess) {
        return sendPage(reply, searchPage(f, list, { bsn, exchange: code, formError: t('clin.emergency.notAllowed') }), 403);
      }
      const reason = acceptedEmergencyReason(body.emergencyReason);
      if (!reason) {
        const state = { bsn, exchange, emergencyError: t('clin.emergency.required') };
        return sendPage(reply, failedOverviewPage(f, state, t('clin.emergency.required')), 422);
      }
      emergencyReason = reason;
    }

    const state = { bsn, exchange, emergencyReason };
    try {
      const answer = await opts.overview({ bsn, exchange: exchange.code, session: who.identity, emergencyReason, trace: request.trace });
      const bundle = 'bundle' in answer ? answer.bundle : answer;
      const holders = 'bundle' in answer ? answer.holders : undefined;
      const model = overviewModel(bundle, statusWording(t), { lang: f.lang, interpretation: interpretationWording(t), kind: kindWording(t) });
      const extra = extraSections(bundle, {
        lang: f.lang,
        basePath: base,
        exchange: exchange.code,
        coversImages: opts.coversImages?.(exchange.code) ?? false,
        incomplete: model.problems.some((p) => p.severity === 'error' || p.kind === 'holder-partial'),
        notes: model.imagingNotes,
      });
      return sendPage(reply, overviewPage(f, model, { ...state, holders }, extra));
    } catch (err) {
      request.log.warn({ err }, 'overview failed');
      const reason = err instanceof Error ? err.message.slice(0, 300) : String(err);
      return sendPage(reply, failedOverviewPage(f, state, t('clin.failed', { reason })), 502);
    }
  });

  if (opts.imagePreview) registerImagePreviewRoute(app, base, requireClinician, opts.imagePreview);
  if (opts.foreignSummary) registerForeignSummaryRoutes(app, { base, port: opts.foreignSummary, requireClinician, frameOf });

  app.post(`${base}/logout`, async (request, reply) => {
    const s = await sessions.load(request);
    const body = (request.body ?? {}) as Record<string, unknown>;
    if (s && !csrfMatches(s.data.csrf, body.csrf)) throw new PageError(403, 'common.csrf');
    await sessions.destroy(reply, s?.id);
    return reply.redirect(`${base}/`);
  });
}
