import formbody from '@fastify/formbody';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { InteractionDetails, Provider } from 'oidc-provider';
import type { Queryable } from '../../kit/store/store.ts';
import { LOGIN_PATH } from '../constants.ts';
import { checkPassword } from '../credentials.ts';
import { LOGIN_ERRORS, type Lang, type LoginChoice, pickLang, renderLoginPage } from '../login-page.ts';

// The login step of the code flow: the library sends the browser to /login/<uid>; the person
// picks (sandbox) or authenticates (password); we tell the library who it was and which grant
// the client gets, and send the browser back to the authorization endpoint.

export interface LoggedIn {
  accountId: string;
  acr?: string;
  amr?: string[];
}

export interface LoginFlow {
  kind: 'professional' | 'citizen';
  db: Queryable;
  getProvider(): Promise<Provider>;
  requirePassword: boolean;
  choices(lang: Lang): Promise<LoginChoice[]>;
  /** Turns the chosen/authenticated account key into a library account id; undefined = unknown. */
  logIn(accountKey: string, how: 'sandbox' | 'password'): Promise<LoggedIn | undefined>;
  clientName(clientId: string): string;
  /** Called once a grant exists for the account (the professional part issues its verklaring here). */
  onGrant?(accountId: string, grantId: string): Promise<void>;
}

interface LoginForm {
  account?: string;
  password?: string;
  lang?: string;
  do?: string;
}

async function grantFor(flow: LoginFlow, details: InteractionDetails, accountId: string): Promise<string> {
  const provider = await flow.getProvider();
  const grant = new provider.Grant({ accountId, clientId: String(details.params.client_id) });
  const scopes = String(details.params.scope ?? 'openid').split(' ').filter(Boolean);
  for (const scope of scopes) grant.addOIDCScope(scope);
  const grantId = await grant.save();
  await flow.onGrant?.(accountId, grantId);
  return grantId;
}

export async function registerLoginRoutes(app: FastifyInstance, flow: LoginFlow): Promise<void> {
  await app.register(async (scope) => {
    await scope.register(formbody);

    const details = async (request: FastifyRequest, reply: FastifyReply): Promise<InteractionDetails | undefined> => {
      const provider = await flow.getProvider();
      try {
        const d = await provider.interactionDetails(request.raw, reply.raw);
        if (d.uid !== (request.params as { uid: string }).uid) return undefined;
        return d;
      } catch {
        return undefined;
      }
    };
    const expired = (reply: FastifyReply, lang: Lang) =>
      reply.code(400).type('text/html; charset=utf-8').send(`<!doctype html><html lang="${lang}"><body><p>${LOGIN_ERRORS[lang].expired}</p></body></html>`);
    const page = async (reply: FastifyReply, d: InteractionDetails, lang: Lang, error?: string) =>
      reply
        .code(error ? 401 : 200)
        .type('text/html; charset=utf-8')
        // Chromium applies form-action to the redirects that follow the POST, so the client's
        // callback origin must be allowed too (its redirect_uri was checked at /authorize).
        .header('content-security-policy', `default-src 'none'; style-src 'unsafe-inline'; form-action 'self' ${callbackOrigin(d)}`)
        .header('cache-control', 'no-store')
        .send(
          renderLoginPage({
            kind: flow.kind,
            lang,
            action: `${LOGIN_PATH}/${d.uid}`,
            clientName: flow.clientName(String(d.params.client_id)),
            choices: flow.requirePassword ? [] : await flow.choices(lang),
            requirePassword: flow.requirePassword,
            error,
          }),
        );
    const finish = async (request: FastifyRequest, reply: FastifyReply, result: Record<string, unknown>) => {
      const provider = await flow.getProvider();
      const to = await provider.interactionResult(request.raw, reply.raw, result, { mergeWithLastSubmission: false });
      return reply.redirect(to, 303);
    };

    scope.get(`${LOGIN_PATH}/:uid`, async (request, reply) => {
      const query = request.query as { lang?: string };
      const d = await details(request, reply);
      const lang = pickLang(query.lang, d ? String(d.params.ui_locales ?? '') : undefined);
      if (!d) return expired(reply, lang);
      // Already logged in, only the client's grant is missing: no need to ask again.
      if (d.prompt.name === 'consent' && d.session?.accountId) {
        const grantId = await grantFor(flow, d, d.session.accountId);
        return finish(request, reply, { consent: { grantId } });
      }
      return page(reply, d, lang);
    });

    scope.post(`${LOGIN_PATH}/:uid`, async (request, reply) => {
      const form = (request.body ?? {}) as LoginForm;
      const d = await details(request, reply);
      const lang = pickLang(form.lang, d ? String(d.params.ui_locales ?? '') : undefined);
      if (!d) return expired(reply, lang);
      if (form.do === 'cancel') {
        return finish(request, reply, { error: 'access_denied', error_description: 'the user cancelled the login' });
      }
      const account = (form.account ?? '').trim();
      let who: LoggedIn | undefined;
      if (flow.requirePassword) {
        const ok = account !== '' && (await checkPassword(flow.db, account, form.password ?? ''));
        who = ok ? await flow.logIn(account, 'password') : undefined;
      } else {
        who = account ? await flow.logIn(account, 'sandbox') : undefined;
      }
      if (!who) return page(reply, d, lang, LOGIN_ERRORS[lang].unknown);
      const grantId = await grantFor(flow, d, who.accountId);
      return finish(request, reply, {
        login: { accountId: who.accountId, acr: who.acr, amr: who.amr, remember: false },
        consent: { grantId },
      });
    });
  });
}

/** Origin of the client's registered redirect_uri for this interaction ('' when absent or malformed). */
function callbackOrigin(d: InteractionDetails): string {
  try {
    return new URL(String(d.params.redirect_uri)).origin;
  } catch {
    return '';
  }
}
