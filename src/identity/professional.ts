import type { FastifyInstance } from 'fastify';
import type { Provider } from 'oidc-provider';
import { forbidden, notFound } from '../kit/fhir/outcome.ts';
import type { PartContext, PartDefinition } from '../kit/part.ts';
import { OIDC_MODELS_MIGRATION_SQL, oidcStoreKey, purgeExpired } from './oidc/adapter.ts';
import { LOA, LOGIN_PATH, OIDC_ROUTES, VERKLARING_ADMIN_PREFIX, VERKLARING_JWKS_PATH, VERKLARING_STATUS_PREFIX } from './constants.ts';
import { CREDENTIALS_MIGRATION_SQL } from './credentials.ts';
import type { ProfessionalDirectory } from './directory.ts';
import { KEYS_MIGRATION_SQL, loadOrCreateCookieKeys, loadOrCreateRsaKey, publicJwks } from './keys.ts';
import { registerLoginRoutes } from './oidc/interaction.ts';
import { mountProvider, OIDC_PUBLIC_PATHS } from './oidc/mount.ts';
import { buildProvider } from './oidc/provider.ts';
import { identitySettingsOf } from './serve-settings.ts';
import { clientsFrom, directoryFrom, type ProviderOptions, requirePasswordFrom } from './settings.ts';
import { professionalName } from './verklaring/claims.ts';
import { issueVerklaring } from './verklaring/issue.ts';
import { activeVerklaringForGrant, findVerklaring, revokeVerklaring, statusOf, VERKLARING_MIGRATION_SQL } from './verklaring/store.ts';
import { doors } from '../kit/http/rate-limits.ts';

// The professional identity provider (Dezi-like): OpenID Connect code flow with PKCE; every
// login issues a fresh verklaring that rides in the id_token and userinfo as `verklaring`.
// Its keys are published at /dezi/jwks.json (apart from the id_token keys at /jwks), its
// status at /status/v1/verklaring/<id>; the holder organisation or the operator can revoke it.

export interface IdentityOptions extends ProviderOptions {
  /** Who can log in; default the sandbox cast only with settings.directory = 'cast' (else the part does not start). */
  directory?: ProfessionalDirectory;
  /** Lifetime of a verklaring; default settings.verklaring_ttl_seconds or 8 hours (one shift). */
  verklaringTtlSeconds?: number;
  /** URA allowed to revoke any verklaring (the operator); default settings.operator_ura. */
  operatorUra?: string;
}

const PURGE_INTERVAL_MS = 10 * 60 * 1000;

export const IDENTITY_MIGRATIONS = [
  { id: '001_identity', sql: [KEYS_MIGRATION_SQL, OIDC_MODELS_MIGRATION_SQL, VERKLARING_MIGRATION_SQL, CREDENTIALS_MIGRATION_SQL].join('\n') },
];

export function createIdentityPart(options: IdentityOptions = {}): PartDefinition {
  let timer: NodeJS.Timeout | undefined;
  return {
    name: 'identity',
    schema: 'identity',
    migrations: IDENTITY_MIGRATIONS,
    publicPaths: [...OIDC_PUBLIC_PATHS, LOGIN_PATH, VERKLARING_JWKS_PATH, VERKLARING_STATUS_PREFIX],
    rateLimits: [...doors('login', [`POST ${LOGIN_PATH}/:uid`]), ...doors('token', [`POST ${OIDC_ROUTES.token}`])],
    async register(app: FastifyInstance, ctx: PartContext) {
      const db = ctx.store;
      const settings = identitySettingsOf(ctx.settings);
      const directory = directoryFrom(options.directory, settings, 'identity');
      const clients = clientsFrom(options, settings);
      const requirePassword = requirePasswordFrom(options, settings);
      const ttl = options.verklaringTtlSeconds ?? settings.verklaringTtlSeconds;
      const operatorUra = options.operatorUra ?? settings.operatorUra;
      const idTokenKey = await loadOrCreateRsaKey(db, 'id-token');
      const verklaringKey = await loadOrCreateRsaKey(db, 'verklaring');
      const cookieKeys = await loadOrCreateCookieKeys(db);
      // The issuer is known only once the service listens (port 0 in tests and the sandbox).
      const issuer = () => options.issuer ?? settings.issuer ?? ctx.baseUrl;

      let provider: Provider | undefined;
      const getProvider = async () => {
        provider ??= buildProvider({
          issuer: issuer(),
          db,
          clients,
          idTokenKey,
          cookieKeys,
          log: ctx.log,
          storeKey: oidcStoreKey(settings.oidcStoreKey),
          acrValues: [LOA.high],
          claims: { openid: ['sub', 'verklaring'], profile: ['name', 'family_name', 'given_name'] },
          async findAccount(deziNumber, token) {
            const professional = await directory.find(deziNumber);
            if (!professional) return undefined;
            // Tokens carry the verklaring issued with their grant; a revoked or expired one ends
            // the tokens too. Without a token (session check at /authorize) none is needed.
            const grantId = token?.grantId;
            const jwt = grantId ? await activeVerklaringForGrant(db, grantId, deziNumber) : undefined;
            if (grantId && !jwt) return undefined;
            return {
              accountId: deziNumber,
              claims: () => ({
                sub: deziNumber,
                ...(jwt ? { verklaring: jwt } : {}),
                name: professionalName({ voorletters: professional.initials, voorvoegsel: professional.prefix ?? null, achternaam: professional.surname }),
                family_name: [professional.prefix, professional.surname].filter(Boolean).join(' '),
                given_name: professional.initials,
              }),
            };
          },
        });
        return provider;
      };

      app.get(VERKLARING_JWKS_PATH, async (_req, reply) => reply.header('cache-control', 'public, max-age=300').send(publicJwks(verklaringKey)));

      app.get(`${VERKLARING_STATUS_PREFIX}/:id`, async (request, reply) => {
        const { id } = request.params as { id: string };
        const record = await findVerklaring(db, id);
        if (!record) throw notFound(`no verklaring ${id}`);
        return reply.header('cache-control', 'no-store').send({ verklaring_id: id, status: statusOf(record) });
      });

      // mTLS only: the organisation the verklaring is for, or the operator.
      app.post(`${VERKLARING_ADMIN_PREFIX}/:id/revoke`, async (request) => {
        const { id } = request.params as { id: string };
        const reason = String((request.body as { reason?: unknown } | undefined)?.reason ?? 'revoked by the organisation');
        const record = await findVerklaring(db, id);
        if (!record) throw notFound(`no verklaring ${id}`);
        const caller = request.peer?.ura;
        if (!caller || (caller !== record.ura && caller !== operatorUra)) {
          throw forbidden(`only organisation ${record.ura} or the operator may revoke this verklaring`);
        }
        await revokeVerklaring(db, id, reason.slice(0, 500));
        ctx.log.info({ verklaringId: id, by: caller }, 'verklaring revoked');
        return { verklaring_id: id, status: 'revoked' };
      });

      await registerLoginRoutes(app, {
        kind: 'professional',
        db,
        getProvider,
        requirePassword,
        clientName: (clientId) => String(clients.find((c) => c.client_id === clientId)?.client_name ?? clientId),
        choices: async () =>
          (await directory.list()).map((p) => ({
            value: p.deziNumber,
            label: professionalName({ voorletters: p.initials, voorvoegsel: p.prefix ?? null, achternaam: p.surname }),
            detail: `${p.roleName} · Dezi ${p.deziNumber}`,
            group: p.organizationName,
          })),
        async logIn(deziNumber) {
          return (await directory.find(deziNumber)) ? { accountId: deziNumber, acr: LOA.high } : undefined;
        },
        // Every grant (every login, every new client in a session) gets its own verklaring.
        async onGrant(deziNumber, grantId) {
          const professional = await directory.find(deziNumber);
          if (!professional) throw new Error(`professional ${deziNumber} vanished during login`);
          const base = issuer();
          await issueVerklaring(db, verklaringKey, professional, {
            issuer: base,
            jku: `${base}${VERKLARING_JWKS_PATH}`,
            statusBase: `${base}${VERKLARING_STATUS_PREFIX}`,
            ttlSeconds: ttl,
            grantId,
          });
        },
      });
      await mountProvider(app, getProvider);
      timer = setInterval(() => void purgeExpired(db).catch((err) => ctx.log.warn({ err }, 'purge failed')), PURGE_INTERVAL_MS);
      timer.unref();
    },
    async stop() {
      if (timer) clearInterval(timer);
    },
  };
}
