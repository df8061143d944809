import { randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import formbody from '@fastify/formbody';
import { LdnError } from '../../kit/errors.ts';
import { HttpError } from '../../kit/fhir/outcome.ts';
import { banner, page } from './layout.ts';
import { html } from './html.ts';
import { type Lang, languageOf, translator } from './i18n.ts';
import { pageErrorCode, PortalError } from '../errors.ts';

// Web plumbing shared by the three portals: strict security headers on every response of the
// portal's scope, the local assets, form parsing, CSRF tokens and HTML error pages.

const CSS = readFileSync(new URL('./portal.css', import.meta.url), 'utf8');
const JS = readFileSync(new URL('./portal.js', import.meta.url), 'utf8');

/** No inline script or style, nothing from elsewhere, no framing. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
].join('; ');

export function securityHeaders(reply: FastifyReply): void {
  reply.header('content-security-policy', CONTENT_SECURITY_POLICY);
  reply.header('x-content-type-options', 'nosniff');
  reply.header('referrer-policy', 'no-referrer');
  reply.header('x-frame-options', 'DENY');
  reply.header('cross-origin-opener-policy', 'same-origin');
  reply.header('permissions-policy', 'camera=(), microphone=(), geolocation=()');
}

/** Installs headers, assets and form parsing in the (encapsulated) scope of a portal. */
export async function installWebKit(app: FastifyInstance, assetBase: string): Promise<void> {
  app.addHook('onRequest', async (_request, reply) => {
    securityHeaders(reply);
    // Pages carry personal data: never cache them. Assets override this below.
    reply.header('cache-control', 'no-store');
  });
  if (!app.hasContentTypeParser('application/x-www-form-urlencoded')) await app.register(formbody);
  app.get(`${assetBase}/portal.css`, async (_req, reply) =>
    reply.header('cache-control', 'public, max-age=3600').type('text/css; charset=utf-8').send(CSS),
  );
  app.get(`${assetBase}/portal.js`, async (_req, reply) =>
    reply.header('cache-control', 'public, max-age=3600').type('text/javascript; charset=utf-8').send(JS),
  );
}

export function sendPage(reply: FastifyReply, body: string, status = 200): FastifyReply {
  return reply.code(status).type('text/html; charset=utf-8').send(body);
}

export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Constant-time comparison of a submitted CSRF token with the session's. */
export function csrfMatches(expected: string | undefined, submitted: unknown): boolean {
  if (!expected || typeof submitted !== 'string') return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(submitted);
  return a.length === b.length && timingSafeEqual(a, b);
}

type PageMessageKey = 'common.badRequest' | 'common.csrf' | 'common.notLoggedIn' | 'cit.notLoggedIn' | 'common.loginFailed' | 'common.error';

/**
 * A refusal shown to the visitor as a page with the message of `messageKey` in her language; its
 * code (by status, PORTAL_ERRORS) is for the log and for a program that asked for JSON.
 */
export class PageError extends PortalError {
  constructor(
    status: number,
    readonly messageKey: PageMessageKey,
    diagnostics: string = messageKey,
  ) {
    super(pageErrorCode(status), diagnostics, { status });
  }
}

/** Errors in a portal scope become an HTML page in the visitor's language, never a stack trace. */
export function installErrorPage(app: FastifyInstance, options: { portal: (lang: Lang) => string; home: string; assetBase: string }) {
  app.setErrorHandler((err: FastifyError | LdnError, request: FastifyRequest, reply: FastifyReply) => {
    const lang = languageOf(request);
    const t = translator(lang);
    // Coded refusals (the kit's rate limits and NUL bytes, another part's answer such as an invalid
    // BSN from the pseudonym service) carry their own status and headers (Retry-After).
    if (err instanceof LdnError) for (const [k, v] of Object.entries(err.headers)) reply.header(k, v);
    const status =
      err instanceof LdnError ? err.status : err.statusCode && err.statusCode < 500 ? err.statusCode : 500;
    // A program (not a browser) that asks for JSON gets the OperationOutcome every part answers with.
    if (/application\/(fhir\+)?json/.test(String(request.headers.accept ?? '')) && !/text\/html/.test(String(request.headers.accept ?? ''))) {
      if (status >= 500) request.log.error({ err }, 'portal request failed');
      const outcome =
        err instanceof PageError
          ? new PageError(status, err.messageKey, status < 500 ? t(err.messageKey) : 'internal error')
          : err instanceof LdnError
            ? err
            : new HttpError(status, status === 401 ? 'login' : status === 403 ? 'forbidden' : status < 500 ? 'invalid' : 'exception', status < 500 ? t(err instanceof PageError ? err.messageKey : 'common.badRequest') : 'internal error');
      return reply.code(status).type('application/fhir+json').send(outcome.outcome);
    }
    const key = err instanceof PageError ? err.messageKey : status < 500 ? 'common.badRequest' : 'common.error';
    if (status >= 500) request.log.error({ err }, 'portal page failed');
    securityHeaders(reply);
    return sendPage(
      reply,
      page({
        lang,
        portal: options.portal(lang),
        home: options.home,
        title: t('common.error'),
        assetBase: options.assetBase,
        path: request.url.split('?')[0],
        main: html`<h1>${t('common.error')}</h1>${banner('error', t(key), [], t('common.errorBody'))}<p><a href="${options.home}">${options.portal(lang)}</a></p>`,
      }),
      status,
    );
  });
}
