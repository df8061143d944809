import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ParsedConsent } from '../../consent/contract.ts';
import { isValidBsn } from '../../kit/identifiers/bsn.ts';
import { overviewModel } from '../clinician/overview-model.ts';
import { callbackUrlOf, type LoginProvider, type LoginResult, type PendingLogin } from '../oidc.ts';
import type { AccessLogPort, CitizenDataPort, CitizenIdentity, ConsentPort, ProviderOption } from '../ports.ts';
import type { Sessions } from '../sessions.ts';
import { interpretationWording, kindWording, languageOf, statusWording, translator } from '../ui/i18n.ts';
import { csrfMatches, PageError, sendPage } from '../ui/web.ts';
import { accessPage, CITIZEN_BASE, type CitizenFrame, citizenLoginPage, consentPage, dataPage, timelinePage } from './pages.ts';
import { verifiedAccessLog } from './verify-access.ts';
import { CATEGORY_NAMES, PROVIDER_KIND_NAMES } from './vocabulary.ts';

// Routes of Mijn Gezondheidsoverzicht. Every page acts for the logged-in citizen only: the BSN
// comes from her session (the provider's subject), never from the browser.

export interface CitizenSession {
  pending?: PendingLogin;
  /** Where to go after the login (an app's authorisation request), same portal only. */
  next?: string;
  citizen?: CitizenIdentity;
}

export interface CitizenPortalDeps {
  login: LoginProvider;
  /** Registered redirect URI of the portal (absolute); absent in tests with a fake provider. */
  redirectUri?: () => string;
  sessions: Sessions<CitizenSession>;
  citizenData: CitizenDataPort;
  consent: ConsentPort;
  accessLog: AccessLogPort;
  providers: () => Promise<ProviderOption[]>;
  assetBase: string;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** The citizen from the DigiD-like provider: the subject is the BSN (checked with the 11-test). */
export function citizenFromLogin(login: LoginResult): CitizenIdentity {
  const bsn = str(login.claims.bsn) ?? login.subject;
  if (!isValidBsn(bsn)) throw new Error('the citizen provider returned no valid BSN');
  const name = str(login.claims.name) ?? [str(login.claims.given_name), str(login.claims.family_name)].filter(Boolean).join(' ');
  // Only what the session needs: the ID token proves her to the holders, consent and the
  // access log; the access token only stands in for a provider that issues no ID token.
  return { bsn, name: name || undefined, loa: str(login.claims.acr), idToken: login.idToken, ...(login.idToken ? {} : { accessToken: login.accessToken }) };
}

export function registerCitizenPortal(app: FastifyInstance, deps: CitizenPortalDeps): void {
  const B = CITIZEN_BASE;
  // Only care providers are offered for a choice: never the network operator or another participant that holds no care data.
  const careProviders = async (): Promise<ProviderOption[]> =>
    (await deps.providers().catch(() => [] as ProviderOption[])).filter((p) => p.type in PROVIDER_KIND_NAMES);
  const frameOf = (request: FastifyRequest, reply: FastifyReply, user?: CitizenFrame['user']): CitizenFrame => ({
    lang: languageOf(request, reply),
    path: request.url.split('?')[0],
    assetBase: deps.assetBase,
    user,
  });
  const current = async (request: FastifyRequest) => {
    const s = await deps.sessions.load(request);
    return s?.data.citizen ? { id: s.id, citizen: s.data.citizen, csrf: s.data.csrf } : undefined;
  };
  /** For GET pages: the citizen, or undefined after sending a redirect to the login page. */
  const pageUser = async (request: FastifyRequest, reply: FastifyReply) => {
    const who = await current(request);
    if (!who) {
      reply.redirect(`${B}/`);
      return undefined;
    }
    return { who, f: frameOf(request, reply, { identity: who.citizen, csrf: who.csrf }) };
  };
  const formUser = async (request: FastifyRequest) => {
    const who = await current(request);
    if (!who) throw new PageError(401, 'cit.notLoggedIn');
    if (!csrfMatches(who.csrf, (request.body as Record<string, unknown> | undefined)?.csrf)) throw new PageError(403, 'common.csrf');
    return who;
  };

  app.get(`${B}/`, async (request, reply) => {
    if (await current(request)) return reply.redirect(`${B}/data`);
    return sendPage(reply, citizenLoginPage(frameOf(request, reply)));
  });

  app.get(`${B}/login`, async (request, reply) => {
    const { url, pending } = await deps.login.begin();
    const old = await deps.sessions.load(request);
    if (old) await deps.sessions.destroy(reply, old.id);
    const next = str((request.query as Record<string, unknown>).next);
    await deps.sessions.create(reply, { pending, next: next?.startsWith(`${B}/apps/authorize?`) ? next : undefined });
    return reply.redirect(url);
  });

  app.get(`${B}/callback`, async (request, reply) => {
    const s = await deps.sessions.load(request);
    const f = frameOf(request, reply);
    const t = translator(f.lang);
    if (!s?.data.pending) return sendPage(reply, citizenLoginPage(f, t('common.loginFailed')), 400);
    try {
      const url = deps.redirectUri ? callbackUrlOf(deps.redirectUri(), request.url) : new URL(request.url, 'https://portal.invalid');
      const citizen = citizenFromLogin(await deps.login.complete(url, s.data.pending));
      await deps.sessions.destroy(reply, s.id);
      await deps.sessions.create(reply, { citizen });
      return reply.redirect(s.data.next ?? `${B}/data`);
    } catch (err) {
      request.log.warn({ err }, 'citizen login failed');
      await deps.sessions.destroy(reply, s.id);
      return sendPage(reply, citizenLoginPage(f, t('common.loginFailed')), 401);
    }
  });

  const model = async (request: FastifyRequest, citizen: CitizenIdentity) => {
    try {
      // Statuses, result flags, kinds of item and numbers in the reader's language, as in the viewer.
      const lang = languageOf(request);
      const t = translator(lang);
      return overviewModel(await deps.citizenData(citizen), statusWording(t), { lang, interpretation: interpretationWording(t), kind: kindWording(t) });
    } catch (err) {
      request.log.warn({ err }, 'citizen data unavailable');
      return undefined;
    }
  };

  app.get(`${B}/data`, async (request, reply) => {
    const u = await pageUser(request, reply);
    if (!u) return reply;
    return sendPage(reply, dataPage(u.f, await model(request, u.who.citizen)));
  });

  app.get(`${B}/timeline`, async (request, reply) => {
    const u = await pageUser(request, reply);
    if (!u) return reply;
    return sendPage(reply, timelinePage(u.f, await model(request, u.who.citizen)));
  });

  const renderConsent = async (request: FastifyRequest, reply: FastifyReply, citizen: CitizenIdentity, csrf: string, extra: { saved?: boolean; error?: string }, status = 200) => {
    const f = frameOf(request, reply, { identity: citizen, csrf });
    const [mode, choices, providers] = await Promise.all([
      deps.consent.mode().catch(() => undefined),
      deps.consent.list(citizen).catch((err) => {
        request.log.warn({ err }, 'consent list unavailable');
        return undefined;
      }),
      careProviders(),
    ]);
    return sendPage(reply, consentPage(f, { mode, choices, providers, ...extra }), status);
  };

  app.get(`${B}/consent`, async (request, reply) => {
    const u = await pageUser(request, reply);
    if (!u) return reply;
    return renderConsent(request, reply, u.who.citizen, u.who.csrf, { saved: (request.query as Record<string, string>).saved === '1' });
  });

  app.post(`${B}/consent`, async (request, reply) => {
    const who = await formUser(request);
    const b = request.body as Record<string, unknown>;
    const t = translator(languageOf(request));
    const provision = b.provision === 'permit' ? 'permit' : b.provision === 'deny' ? 'deny' : undefined;
    const scope = str(b.scope);
    const choice: ParsedConsent = {
      bsn: who.citizen.bsn,
      status: 'active',
      provision: provision ?? 'deny',
      holderUras: [],
      holderTypes: [],
      requesterUras: [],
      requesterTypes: [],
      dataCategories: [],
    };
    const providers = await careProviders();
    const category = str(b.category);
    const kind = str(b.type);
    const provider = str(b.provider);
    let valid = provision !== undefined;
    if (scope === 'category' && category && category in CATEGORY_NAMES) choice.dataCategories.push(category);
    else if (scope === 'type' && kind && kind in PROVIDER_KIND_NAMES) choice.requesterTypes.push(kind);
    else if (scope === 'provider' && provider && providers.some((p) => p.ura === provider)) choice.requesterUras.push(provider);
    else if (scope !== 'all') valid = false;
    if (!valid) return renderConsent(request, reply, who.citizen, who.csrf, { error: t('common.badRequest') }, 400);
    try {
      await deps.consent.create(who.citizen, choice);
    } catch (err) {
      return renderConsent(request, reply, who.citizen, who.csrf, { error: t('cit.consent.failed', { reason: (err as Error).message.slice(0, 200) }) }, 502);
    }
    return reply.redirect(`${B}/consent?saved=1`, 303);
  });

  // The research opt-out (EHDS): object = one active research objection; withdraw = none active.
  app.post(`${B}/consent/research`, async (request, reply) => {
    const who = await formUser(request);
    const objection = str((request.body as Record<string, unknown>).objection);
    const t = translator(languageOf(request));
    if (objection !== 'object' && objection !== 'withdraw') return renderConsent(request, reply, who.citizen, who.csrf, { error: t('common.badRequest') }, 400);
    try {
      const active = (await deps.consent.list(who.citizen)).filter((c) => c.purpose === 'HRESCH' && c.status === 'active' && c.provision === 'deny');
      if (objection === 'object' && active.length === 0) {
        await deps.consent.create(who.citizen, {
          bsn: who.citizen.bsn, status: 'active', provision: 'deny', purpose: 'HRESCH',
          holderUras: [], holderTypes: [], requesterUras: [], requesterTypes: [], dataCategories: [],
        });
      }
      if (objection === 'withdraw') {
        for (const c of active) {
          const { id, version, recordedAt: _r, ...choice } = c;
          await deps.consent.update(who.citizen, id, version, { ...choice, status: 'inactive' });
        }
      }
    } catch (err) {
      return renderConsent(request, reply, who.citizen, who.csrf, { error: t('cit.consent.failed', { reason: (err as Error).message.slice(0, 200) }) }, 502);
    }
    return reply.redirect(`${B}/consent?saved=1`, 303);
  });

  app.post<{ Params: { id: string } }>(`${B}/consent/:id`, async (request, reply) => {
    const who = await formUser(request);
    const b = request.body as Record<string, unknown>;
    const t = translator(languageOf(request));
    const version = Number(b.version);
    const action = str(b.action);
    if (!Number.isInteger(version) || version < 1 || (action !== 'withdraw' && action !== 'flip')) {
      return renderConsent(request, reply, who.citizen, who.csrf, { error: t('common.badRequest') }, 400);
    }
    try {
      // Only a choice from her own list can be changed (the consent part checks this again).
      const existing = (await deps.consent.list(who.citizen)).find((c) => c.id === request.params.id);
      if (!existing) return renderConsent(request, reply, who.citizen, who.csrf, { error: t('common.badRequest') }, 404);
      const { id: _id, version: _v, recordedAt: _r, ...choice } = existing;
      const next: ParsedConsent =
        action === 'withdraw' ? { ...choice, status: 'inactive' } : { ...choice, provision: choice.provision === 'permit' ? 'deny' : 'permit' };
      await deps.consent.update(who.citizen, existing.id, version, next);
    } catch (err) {
      return renderConsent(request, reply, who.citizen, who.csrf, { error: t('cit.consent.failed', { reason: (err as Error).message.slice(0, 200) }) }, 502);
    }
    return reply.redirect(`${B}/consent?saved=1`, 303);
  });

  app.get(`${B}/access`, async (request, reply) => {
    const u = await pageUser(request, reply);
    if (!u) return reply;
    let view: Awaited<ReturnType<typeof verifiedAccessLog>> | undefined;
    try {
      view = await verifiedAccessLog(deps.accessLog, await deps.accessLog.accesses(u.who.citizen));
    } catch (err) {
      request.log.warn({ err }, 'access log unavailable');
    }
    return sendPage(reply, accessPage(u.f, view));
  });

  app.post(`${B}/logout`, async (request, reply) => {
    const s = await deps.sessions.load(request);
    if (s && !csrfMatches(s.data.csrf, (request.body as Record<string, unknown> | undefined)?.csrf)) throw new PageError(403, 'common.csrf');
    await deps.sessions.destroy(reply, s?.id);
    return reply.redirect(`${B}/`, 303);
  });
}
