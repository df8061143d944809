import type { FastifyInstance } from 'fastify';
import type { Provider } from 'oidc-provider';
import { maskBsn } from '../kit/identifiers/bsn.ts';
import type { PartContext, PartDefinition } from '../kit/part.ts';
import { LOA, LOGIN_PATH, OIDC_ROUTES } from './constants.ts';
import { CREDENTIALS_MIGRATION_SQL } from './credentials.ts';
import type { CitizenDirectory } from './directory.ts';
import { KEYS_MIGRATION_SQL, loadOrCreateCookieKeys, loadOrCreateRsaKey } from './keys.ts';
import { OIDC_MODELS_MIGRATION_SQL, oidcStoreKey, purgeExpired } from './oidc/adapter.ts';
import { registerLoginRoutes } from './oidc/interaction.ts';
import { mountProvider, OIDC_PUBLIC_PATHS } from './oidc/mount.ts';
import { buildProvider } from './oidc/provider.ts';
import { citizenIdentitySettingsOf } from './serve-settings.ts';
import { clientsFrom, directoryFrom, type ProviderOptions, requirePasswordFrom } from './settings.ts';
import { doors } from '../kit/http/rate-limits.ts';

// The citizen identity provider (DigiD-like): OpenID Connect code flow with PKCE for the
// citizen portal only. The subject is the BSN, `acr` the level of assurance. It issues no
// verklaring and has its own keys and issuer, so its tokens can never pass as a professional.

export interface CitizenIdentityOptions extends ProviderOptions {
  /** Who can log in; default the sandbox cast only with settings.directory = 'cast' (else the part does not start). */
  directory?: CitizenDirectory;
  /** Level of assurance the login asserts; default substantial in the sandbox, low with a password. */
  loa?: string;
}

/** A birth date as Dutch readers write it ("12 maart 1974"); the ISO text when it is not a date. */
function dutchDate(iso: string | undefined): string | undefined {
  if (!iso || !/^\d{4}-\d{2}-\d{2}$/.test(iso)) return iso;
  return new Intl.DateTimeFormat('nl-NL', { dateStyle: 'long', timeZone: 'UTC' }).format(new Date(`${iso}T00:00:00Z`));
}

const PURGE_INTERVAL_MS = 10 * 60 * 1000;

export const CITIZEN_IDENTITY_MIGRATIONS = [
  { id: '001_citizen_identity', sql: [KEYS_MIGRATION_SQL, OIDC_MODELS_MIGRATION_SQL, CREDENTIALS_MIGRATION_SQL].join('\n') },
];

export function createCitizenIdentityPart(options: CitizenIdentityOptions = {}): PartDefinition {
  let timer: NodeJS.Timeout | undefined;
  return {
    name: 'citizen-identity',
    schema: 'citizen_identity',
    migrations: CITIZEN_IDENTITY_MIGRATIONS,
    publicPaths: [...OIDC_PUBLIC_PATHS, LOGIN_PATH],
    rateLimits: [...doors('login', [`POST ${LOGIN_PATH}/:uid`]), ...doors('token', [`POST ${OIDC_ROUTES.token}`])],
    async register(app: FastifyInstance, ctx: PartContext) {
      const db = ctx.store;
      const settings = citizenIdentitySettingsOf(ctx.settings);
      const directory = directoryFrom(options.directory, settings, 'citizen-identity');
      const clients = clientsFrom(options, settings);
      const requirePassword = requirePasswordFrom(options, settings);
      // STUB: the sandbox asserts "substantial" without a second factor; a real DigiD does the work.
      const loa = options.loa ?? settings.loa ?? (requirePassword ? LOA.low : LOA.substantial);
      const idTokenKey = await loadOrCreateRsaKey(db, 'id-token');
      const cookieKeys = await loadOrCreateCookieKeys(db);

      let provider: Provider | undefined;
      const getProvider = async () => {
        provider ??= buildProvider({
          issuer: options.issuer ?? settings.issuer ?? ctx.baseUrl,
          db,
          clients,
          idTokenKey,
          cookieKeys,
          log: ctx.log,
          storeKey: oidcStoreKey(settings.oidcStoreKey),
          acrValues: [LOA.low, LOA.substantial, LOA.high],
          // The name only for the portal's header (scope profile); the BSN stays the subject.
          claims: { openid: ['sub', 'acr'], profile: ['name'] },
          async findAccount(bsn) {
            const citizen = await directory.find(bsn);
            return citizen ? { accountId: bsn, claims: () => ({ sub: bsn, name: citizen.name }) } : undefined;
          },
        });
        return provider;
      };

      await registerLoginRoutes(app, {
        kind: 'citizen',
        db,
        getProvider,
        requirePassword,
        clientName: (clientId) => String(clients.find((c) => c.client_id === clientId)?.client_name ?? clientId),
        choices: async () =>
          (await directory.list()).map((c) => ({
            value: c.bsn,
            label: c.name,
            detail: [dutchDate(c.birthDate), c.city, `BSN ${maskBsn(c.bsn)}`].filter(Boolean).join(' · '),
            group: c.city ?? '',
          })),
        async logIn(bsn) {
          return (await directory.find(bsn)) ? { accountId: bsn, acr: loa } : undefined;
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
