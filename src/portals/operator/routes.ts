import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PARTICIPANT_STATUSES as STATUSES, type ParticipantStatus } from '../../trust/contract.ts';
import type { HdabOperatorPort, NetworkMonitorPort, TrustOperatorPort } from '../ports.ts';
import type { Sessions } from '../sessions.ts';
import { languageOf, translator } from '../ui/i18n.ts';
import { csrfMatches, PageError, sendPage } from '../ui/web.ts';
import { permitDetailPage, permitsPage } from './permit-pages.ts';
import { agreementsPage, certificatesPage, networkPage, OPERATOR_BASE, type OperatorFrame, operatorLoginPage, participantDetailPage, participantsPage } from './pages.ts';

// The operator dashboard's routes. The operator logs in with a password (no OIDC: there is one
// operator); the trust part's operator API is called server-side with the operator's network
// certificate, which the browser never holds.

export interface OperatorSession {
  operator?: boolean;
  flash?: { kind: 'ok' | 'error'; text: string };
}

export interface OperatorDeps {
  sessions: Sessions<OperatorSession>;
  trust: TrustOperatorPort;
  monitor: NetworkMonitorPort;
  /** undefined = sandbox without a password (refused outside the sandbox by the part). */
  password?: string;
  certificateWarningDays: number;
  assetBase: string;
  /** URA of the operator itself: its own row offers no suspend or revoke. */
  operatorUra?: string;
  /** The HDAB's permit API with the operator's certificate (secondary use); absent: no permit pages work. */
  hdab?: HdabOperatorPort;
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
const reasonOf = (err: unknown) => (err instanceof Error ? err.message : String(err)).slice(0, 300);
const str = (v: unknown): string => (typeof v === 'string' ? v.trim() : '');

export function registerOperatorDashboard(app: FastifyInstance, deps: OperatorDeps): void {
  const B = OPERATOR_BASE;
  const passwordOk = (given: unknown) =>
    deps.password === undefined || (typeof given === 'string' && timingSafeEqual(digest(given), digest(deps.password)));

  const session = async (request: FastifyRequest) => {
    const s = await deps.sessions.load(request);
    return s?.data.operator ? s : undefined;
  };
  /** GET pages: the frame (taking the one-time flash message), or a redirect to the login. */
  const pageFrame = async (request: FastifyRequest, reply: FastifyReply): Promise<OperatorFrame | undefined> => {
    const s = await session(request);
    if (!s) {
      reply.redirect(`${B}/`);
      return undefined;
    }
    const flash = s.data.flash;
    if (flash) await deps.sessions.save(s.id, { ...s.data, flash: undefined });
    return { lang: languageOf(request, reply), path: request.url.split('?')[0], assetBase: deps.assetBase, csrf: s.data.csrf, flash };
  };
  /** POST actions: checks login and CSRF, runs the action, flashes the outcome, back to the page. */
  const action = async (request: FastifyRequest, reply: FastifyReply, back: string, run: () => Promise<string>) => {
    const s = await session(request);
    if (!s) throw new PageError(401, 'common.notLoggedIn');
    if (!csrfMatches(s.data.csrf, (request.body as Record<string, unknown> | undefined)?.csrf)) throw new PageError(403, 'common.csrf');
    const t = translator(languageOf(request));
    let flash: OperatorSession['flash'];
    try {
      flash = { kind: 'ok', text: t('op.done', { what: await run() }) };
      request.log.info({ event: 'operator.action', url: request.url }, 'operator action');
    } catch (err) {
      flash = { kind: 'error', text: t('op.failed', { reason: reasonOf(err) }) };
    }
    await deps.sessions.save(s.id, { ...s.data, flash });
    return reply.redirect(back, 303);
  };
  const body = (request: FastifyRequest) => (request.body ?? {}) as Record<string, unknown>;

  app.get(`${B}/`, async (request, reply) => {
    if (await session(request)) return reply.redirect(`${B}/participants`);
    const f: OperatorFrame = { lang: languageOf(request, reply), path: request.url.split('?')[0], assetBase: deps.assetBase };
    return sendPage(reply, operatorLoginPage(f, { passwordRequired: deps.password !== undefined }));
  });

  app.post(`${B}/login`, async (request, reply) => {
    if (!passwordOk(body(request).password)) {
      const f: OperatorFrame = { lang: languageOf(request), path: `${B}/`, assetBase: deps.assetBase };
      request.log.warn({ event: 'operator.login-failed' }, 'operator login refused');
      return sendPage(reply, operatorLoginPage(f, { passwordRequired: true, error: translator(f.lang)('op.login.wrong') }), 401);
    }
    const old = await deps.sessions.load(request);
    if (old) await deps.sessions.destroy(reply, old.id);
    await deps.sessions.create(reply, { operator: true });
    return reply.redirect(`${B}/participants`, 303);
  });

  app.post(`${B}/logout`, async (request, reply) => {
    const s = await deps.sessions.load(request);
    if (s && !csrfMatches(s.data.csrf, body(request).csrf)) throw new PageError(403, 'common.csrf');
    await deps.sessions.destroy(reply, s?.id);
    return reply.redirect(`${B}/`, 303);
  });

  app.get(`${B}/participants`, async (request, reply) => {
    const f = await pageFrame(request, reply);
    if (!f) return reply;
    const [participants, agreements] = await Promise.all([deps.trust.participants().catch(reasonOf), deps.trust.agreements().catch(() => undefined)]);
    const codes = agreements ? agreements.exchanges.map((x) => x.code as string) : [];
    const q = str((request.query as Record<string, unknown> | undefined)?.q).slice(0, 100);
    return sendPage(reply, participantsPage(f, participants, codes, { query: q, operatorUra: deps.operatorUra }));
  });

  app.get<{ Params: { ura: string } }>(`${B}/participants/:ura`, async (request, reply) => {
    const f = await pageFrame(request, reply);
    if (!f) return reply;
    const [participants, agreements] = await Promise.all([deps.trust.participants().catch(reasonOf), deps.trust.agreements().catch(() => undefined)]);
    const codes = agreements ? agreements.exchanges.map((x) => x.code as string) : [];
    const found = typeof participants === 'string' ? participants : participants.find((p) => p.ura === request.params.ura);
    return sendPage(reply, participantDetailPage(f, found, codes, deps.operatorUra), found ? 200 : 404);
  });

  app.post<{ Params: { ura: string } }>(`${B}/participants/:ura/status`, async (request, reply) =>
    action(request, reply, `${B}/participants/${encodeURIComponent(request.params.ura)}`, async () => {
      const status = str(body(request).status) as ParticipantStatus;
      const reason = str(body(request).reason);
      if (!STATUSES.includes(status) || !reason) throw new Error('status and reason are required');
      if (request.params.ura === deps.operatorUra && status !== 'admitted') throw new Error('the operator does not suspend or revoke itself');
      const p = await deps.trust.setStatus(request.params.ura, status, reason);
      return `${p.name}: ${translator(languageOf(request))(`op.status.${p.status}`)}`;
    }),
  );

  app.post<{ Params: { ura: string } }>(`${B}/participants/:ura/qualify`, async (request, reply) =>
    action(request, reply, `${B}/participants/${encodeURIComponent(request.params.ura)}`, async () => {
      const qualification = str(body(request).qualification);
      const until = str(body(request).validUntil) || undefined;
      const p = await deps.trust.qualify(request.params.ura, qualification, until);
      return `${p.name}: ${qualification}`;
    }),
  );

  app.post<{ Params: { ura: string } }>(`${B}/participants/:ura/withdraw`, async (request, reply) =>
    action(request, reply, `${B}/participants/${encodeURIComponent(request.params.ura)}`, async () => {
      const qualification = str(body(request).qualification);
      const p = await deps.trust.withdrawQualification(request.params.ura, qualification);
      return `${p.name}: – ${qualification}`;
    }),
  );

  app.get(`${B}/network`, async (request, reply) => {
    const f = await pageFrame(request, reply);
    if (!f) return reply;
    const [health, stats] = await Promise.all([deps.monitor.health().catch(reasonOf), deps.monitor.exchangeStats().catch(reasonOf)]);
    return sendPage(reply, networkPage(f, health, stats));
  });

  app.get(`${B}/certificates`, async (request, reply) => {
    const f = await pageFrame(request, reply);
    if (!f) return reply;
    return sendPage(reply, certificatesPage(f, await deps.trust.certificates().catch(reasonOf), deps.certificateWarningDays));
  });

  app.post<{ Params: { serial: string } }>(`${B}/certificates/:serial/revoke`, async (request, reply) =>
    action(request, reply, `${B}/certificates`, async () => {
      const reason = str(body(request).reason);
      if (!reason) throw new Error('a reason is required');
      await deps.trust.revokeCertificate(request.params.serial, reason);
      return request.params.serial;
    }),
  );

  // ---- data permits (the HDAB operator's review; the HDAB checks the operator's certificate) ----
  const hdab = (): HdabOperatorPort => {
    if (!deps.hdab) throw new Error('this network has no health data access body (HDAB)');
    return deps.hdab;
  };
  const permitId = (id: string) => {
    if (!/^[A-Za-z0-9._:-]{1,128}$/.test(id)) throw new PageError(400, 'common.badRequest');
    return id;
  };

  app.get(`${B}/permits`, async (request, reply) => {
    const f = await pageFrame(request, reply);
    if (!f) return reply;
    return sendPage(reply, permitsPage(f, await Promise.resolve().then(() => hdab().permits()).catch(reasonOf)));
  });

  app.get<{ Params: { id: string } }>(`${B}/permits/:id`, async (request, reply) => {
    const f = await pageFrame(request, reply);
    if (!f) return reply;
    const id = permitId(request.params.id);
    const permit = await Promise.resolve().then(() => hdab().permit(id)).catch(reasonOf);
    return sendPage(reply, permitDetailPage(f, permit), typeof permit === 'string' ? 502 : 200);
  });

  app.post<{ Params: { id: string } }>(`${B}/permits/:id/decision`, async (request, reply) => {
    const id = permitId(request.params.id);
    return action(request, reply, `${B}/permits/${id}`, async () => {
      const decision = str(body(request).decision);
      const reason = str(body(request).reason);
      if ((decision !== 'grant' && decision !== 'refuse') || !reason) throw new Error('a decision (grant or refuse) and a reason are required');
      const p = await hdab().decide(id, decision, reason);
      return `${p.application.purpose.slice(0, 80)}: ${translator(languageOf(request))(`op.permit.status.${p.status}`)}`;
    });
  });

  app.post<{ Params: { id: string } }>(`${B}/permits/:id/extraction`, async (request, reply) => {
    const id = permitId(request.params.id);
    return action(request, reply, `${B}/permits/${id}`, async () => {
      const p = await hdab().startExtraction(id);
      return `${p.application.purpose.slice(0, 80)}: ${translator(languageOf(request))(`op.permit.ws.${p.workspace}`)}`;
    });
  });

  app.get(`${B}/agreements`, async (request, reply) => {
    const f = await pageFrame(request, reply);
    if (!f) return reply;
    return sendPage(reply, agreementsPage(f, await deps.trust.agreements().catch(reasonOf)));
  });
}
