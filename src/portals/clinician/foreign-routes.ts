import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ClinicianIdentity, ForeignPatientSearch, ForeignSummaryPort } from '../ports.ts';
import { type Lang, type MessageKey, translator } from '../ui/i18n.ts';
import { csrfMatches, PageError, sendPage } from '../ui/web.ts';
import { foreignSummaryModel } from './foreign-model.ts';
import { foreignSearchPage, foreignSummaryPage } from './foreign-pages.ts';
import type { ViewerFrame } from './pages.ts';

// The viewer's "patient from abroad" routes: GET shows the search, POST asks NCPeH-NL through the
// node and shows the summary, or the search again with what went wrong in words a clinician can act
// on (no match, unknown country, role not admitted, country unreachable), with the status the
// contact point gave. The identifiers travel in the POST body only, never in a URL.

interface Deps {
  base: string;
  port: ForeignSummaryPort;
  requireClinician(request: FastifyRequest): Promise<{ identity: ClinicianIdentity; csrf?: string }>;
  frameOf(request: FastifyRequest, reply: FastifyReply, lang?: Lang, user?: ViewerFrame['user']): ViewerFrame;
}

const FIELDS: Array<keyof ForeignPatientSearch> = ['country', 'id', 'given', 'family', 'birthDate'];

/** Which words explain a refusal: by the status and, for 404 and 403, by what the contact point said. */
export function foreignErrorKey(status: number, message: string): MessageKey {
  if (status === 404) return /trust list/i.test(message) ? 'clin.foreign.error.unknownCountry' : 'clin.foreign.error.notFound';
  if (status === 403 && /role/i.test(message)) return 'clin.foreign.error.role';
  if (status === 504 || status === 503) return 'clin.foreign.error.unreachable';
  return 'clin.foreign.error.other';
}

export function registerForeignSummaryRoutes(app: FastifyInstance, d: Deps): void {
  const path = `${d.base}/buitenland`;
  const countriesFor = (identity: ClinicianIdentity) => d.port.countries(identity).catch(() => []);

  app.get(path, async (request, reply) => {
    const who = await d.requireClinician(request).catch(() => undefined);
    if (!who) return reply.redirect(`${d.base}/`);
    const f = d.frameOf(request, reply, undefined, { identity: who.identity, csrf: who.csrf ?? '' });
    return sendPage(reply, foreignSearchPage(f, await countriesFor(who.identity)));
  });

  app.post(path, async (request, reply) => {
    const who = await d.requireClinician(request);
    const body = (request.body ?? {}) as Record<string, unknown>;
    if (!csrfMatches(who.csrf, body.csrf)) throw new PageError(403, 'common.csrf');
    const f = d.frameOf(request, reply, undefined, { identity: who.identity, csrf: who.csrf ?? '' });
    const t = translator(f.lang);
    const values = Object.fromEntries(FIELDS.map((k) => [k, typeof body[k] === 'string' ? (body[k] as string).trim().slice(0, 200) : ''])) as unknown as ForeignPatientSearch;
    const countries = await countriesFor(who.identity);
    if (FIELDS.some((k) => !values[k]) || !/^\d{4}-\d{2}-\d{2}$/.test(values.birthDate)) {
      return sendPage(reply, foreignSearchPage(f, countries, { values, error: t('clin.foreign.missing') }), 400);
    }
    try {
      const answer = await d.port.summary({ session: who.identity, patient: values, trace: request.trace });
      if (answer.ok) return sendPage(reply, foreignSummaryPage(f, foreignSummaryModel(answer.bundle)));
      const error = t(foreignErrorKey(answer.status, answer.message));
      const status = answer.status >= 400 && answer.status < 600 ? answer.status : 502;
      return sendPage(reply, foreignSearchPage(f, countries, { values, error, detail: t('clin.foreign.error.detail', { message: answer.message }) }), status);
    } catch (err) {
      request.log.warn({ err }, 'foreign summary failed');
      const message = err instanceof Error ? err.message.slice(0, 300) : String(err);
      return sendPage(reply, foreignSearchPage(f, countries, { values, error: t('clin.foreign.error.unreachable'), detail: t('clin.foreign.error.detail', { message }) }), 502);
    }
  });
}
