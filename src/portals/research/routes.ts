import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { decodeJwt } from 'jose';
import type { UpstreamError } from '../../kit/http/client.ts';
import { callbackUrlOf, type LoginProvider, type LoginResult, type PendingLogin } from '../oidc.ts';
import type { HdabResearcherPort, ResearcherIdentity } from '../ports.ts';
import type { Sessions } from '../sessions.ts';
import { languageOf, translator } from '../ui/i18n.ts';
import { csrfMatches, PageError, sendPage } from '../ui/web.ts';
import { RESEARCH_BASE, type ResearchFrame, researchApplyPage, researchLoginPage, researchPermitPage, researchPermitsPage } from './pages.ts';

// The researcher portal's routes. How a researcher authenticates (design, also in the README):
// she is a person in the professional identity provider's directory, bound to her research
// organisation (the verklaring's abonnee_nummer is the organisation's URA). She logs in there
// (OpenID Connect); the portal keeps her verklaring in her session and sends it with every call to
// the HDAB, over the portal's own certificate. The HDAB verifies the verklaring itself and believes
// the header only from the portal's certificate; it then acts for her organisation, which must be
// an admitted research organisation. The portal never holds a research organisation's key, and
// decides nothing: who may see or query what is the HDAB's to say.

export interface ResearchSession {
  pending?: PendingLogin;
  researcher?: ResearcherIdentity;
  flash?: { kind: 'ok' | 'error'; text: string };
}

export interface ResearchPortalDeps {
  login: LoginProvider;
  redirectUri?: () => string;
  sessions: Sessions<ResearchSession>;
  hdab: HdabResearcherPort;
  assetBase: string;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() ? v.trim() : undefined);

/** The researcher from the professional provider's login: her verklaring is required (the HDAB needs it). */
export function researcherFromLogin(login: LoginResult): ResearcherIdentity {
  const verklaring = str(login.claims.verklaring);
  if (!verklaring) throw new Error('the identity provider gave no verklaring');
  const c = { ...login.claims, ...decodeJwt(verklaring) } as Record<string, unknown>;
  const name = [str(c.voorletters), str(c.voorvoegsel), str(c.achternaam)].filter(Boolean).join(' ');
  return { name: name || str(c.name) || login.subject, deziNumber: str(c.dezi_nummer), ura: str(c.abonnee_nummer), organizationName: str(c.abonnee_naam), verklaring };
}

/** The HDAB's own words when it refuses (its OperationOutcome), else the error's message. */
function reasonOf(err: unknown): string {
  const outcome = (err as UpstreamError)?.outcome;
  const said = outcome?.issue?.map((i) => i.diagnostics).filter(Boolean).join('; ');
  return (said || (err instanceof Error ? err.message : String(err))).slice(0, 500);
}

const list = (v: unknown): string[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]).filter((x): x is string => typeof x === 'string' && x !== '');
const codes = (v: unknown): string[] | undefined => {
  const parts = (str(v) ?? '').split(/[\s,]+/).filter(Boolean);
  return parts.length ? parts : undefined;
};
const age = (v: unknown): number | undefined => (str(v) === undefined ? undefined : Number(v));

/** The form as the HDAB's application (the HDAB checks every field and says which is wrong). */
export function applicationOfForm(body: Record<string, unknown>): Record<string, unknown> {
  const cohort = { conditions: codes(body.conditions), medications: codes(body.medications), ageMin: age(body.ageMin), ageMax: age(body.ageMax) };
  return {
    purpose: str(body.purpose) ?? '',
    legalBasis: str(body.legalBasis) ?? '',
    categories: list(body.categories),
    types: list(body.types),
    cohort: Object.fromEntries(Object.entries(cohort).filter(([, v]) => v !== undefined)),
    datePrecision: str(body.datePrecision) ?? 'year',
    periodStart: str(body.periodStart) ?? '',
    periodEnd: str(body.periodEnd) ?? '',
  };
}

export function registerResearchPortal(app: FastifyInstance, deps: ResearchPortalDeps): void {
  const B = RESEARCH_BASE;
  const frameOf = (request: FastifyRequest, reply: FastifyReply, user?: ResearchFrame['user'], flash?: ResearchFrame['flash']): ResearchFrame => ({
    lang: languageOf(request, reply),
    path: request.url.split('?')[0],
    assetBase: deps.assetBase,
    user,
    flash,
  });
  /** GET pages: the researcher (taking the one-time flash), or a redirect to the login. */
  const pageUser = async (request: FastifyRequest, reply: FastifyReply) => {
    const s = await deps.sessions.load(request);
    if (!s?.data.researcher) {
      reply.redirect(`${B}/`);
      return undefined;
    }
    const flash = s.data.flash;
    if (flash) await deps.sessions.save(s.id, { ...s.data, flash: undefined });
    return { who: s.data.researcher, f: frameOf(request, reply, { identity: s.data.researcher, csrf: s.data.csrf }, flash) };
  };
  const formUser = async (request: FastifyRequest) => {
    const s = await deps.sessions.load(request);
    if (!s?.data.researcher) throw new PageError(401, 'common.notLoggedIn');
    if (!csrfMatches(s.data.csrf, (request.body as Record<string, unknown> | undefined)?.csrf)) throw new PageError(403, 'common.csrf');
    return s;
  };
  const permitId = (id: string) => {
    if (!/^[A-Za-z0-9._:-]{1,128}$/.test(id)) throw new PageError(400, 'common.badRequest');
    return id;
  };

  app.get(`${B}/`, async (request, reply) => {
    const s = await deps.sessions.load(request);
    if (s?.data.researcher) return reply.redirect(`${B}/permits`);
    return sendPage(reply, researchLoginPage(frameOf(request, reply)));
  });

  app.get(`${B}/login`, async (request, reply) => {
    const { url, pending } = await deps.login.begin();
    const old = await deps.sessions.load(request);
    if (old) await deps.sessions.destroy(reply, old.id);
    await deps.sessions.create(reply, { pending });
    return reply.redirect(url);
  });

  app.get(`${B}/callback`, async (request, reply) => {
    const s = await deps.sessions.load(request);
    const f = frameOf(request, reply);
    const t = translator(f.lang);
    if (!s?.data.pending) return sendPage(reply, researchLoginPage(f, t('common.loginFailed')), 400);
    try {
      const url = deps.redirectUri ? callbackUrlOf(deps.redirectUri(), request.url) : new URL(request.url, 'https://portal.invalid');
      const researcher = researcherFromLogin(await deps.login.complete(url, s.data.pending));
      await deps.sessions.destroy(reply, s.id);
      await deps.sessions.create(reply, { researcher });
      return reply.redirect(`${B}/permits`);
    } catch (err) {
      request.log.warn({ err }, 'researcher login failed');
      await deps.sessions.destroy(reply, s.id);
      return sendPage(reply, researchLoginPage(f, t('common.loginFailed')), 401);
    }
  });

  app.post(`${B}/logout`, async (request, reply) => {
    const s = await deps.sessions.load(request);
    if (s && !csrfMatches(s.data.csrf, (request.body as Record<string, unknown> | undefined)?.csrf)) throw new PageError(403, 'common.csrf');
    await deps.sessions.destroy(reply, s?.id);
    return reply.redirect(`${B}/`, 303);
  });

  app.get(`${B}/permits`, async (request, reply) => {
    const u = await pageUser(request, reply);
    if (!u) return reply;
    return sendPage(reply, researchPermitsPage(u.f, await deps.hdab.permits(u.who).catch(reasonOf)));
  });

  app.get(`${B}/apply`, async (request, reply) => {
    const u = await pageUser(request, reply);
    if (!u) return reply;
    return sendPage(reply, researchApplyPage(u.f));
  });

  app.post(`${B}/apply`, async (request, reply) => {
    const s = await formUser(request);
    const t = translator(languageOf(request));
    let flash: ResearchSession['flash'];
    let next = `${B}/apply`;
    try {
      const permit = await deps.hdab.apply(s.data.researcher!, applicationOfForm((request.body ?? {}) as Record<string, unknown>));
      flash = { kind: 'ok', text: t('res.apply.done') };
      next = `${B}/permits/${permit.id}`;
    } catch (err) {
      flash = { kind: 'error', text: `${t('res.failed')}: ${reasonOf(err)}` };
    }
    await deps.sessions.save(s.id, { ...s.data, flash });
    return reply.redirect(next, 303);
  });

  app.get<{ Params: { id: string } }>(`${B}/permits/:id`, async (request, reply) => {
    const u = await pageUser(request, reply);
    if (!u) return reply;
    const permit = await deps.hdab.permit(u.who, permitId(request.params.id)).catch(reasonOf);
    return sendPage(reply, researchPermitPage(u.f, permit), typeof permit === 'string' ? 502 : 200);
  });

  // The answer is shown at once (not kept in the session): only what the HDAB released.
  app.post<{ Params: { id: string } }>(`${B}/permits/:id/query`, async (request, reply) => {
    const s = await formUser(request);
    const who = s.data.researcher!;
    const id = permitId(request.params.id);
    const sql = str((request.body as Record<string, unknown> | undefined)?.sql) ?? '';
    const f = frameOf(request, reply, { identity: who, csrf: s.data.csrf });
    const permit = await deps.hdab.permit(who, id).catch(reasonOf);
    if (typeof permit === 'string') return sendPage(reply, researchPermitPage(f, permit), 502);
    try {
      const result = await deps.hdab.query(who, id, sql);
      return sendPage(reply, researchPermitPage(f, permit, { sql, result }));
    } catch (err) {
      return sendPage(reply, researchPermitPage(f, permit, { sql, error: reasonOf(err) }), 422);
    }
  });
}
