import { OPERATOR_URA_SETTING } from '../kit/common-settings.ts';
import { type PartSettings, readSettings, type SettingDeclaration, type SettingValues } from '../kit/part-settings.ts';

const common: SettingDeclaration[] = [
  { name: 'directory', type: { oneOf: ['cast'] }, required: true, doc: 'who can log in: "cast" (the sandbox\'s fictional people) is the only built-in directory; the part does not start without one' },
  { name: 'clients', type: 'json', doc: 'registered OIDC clients: JSON array of {client_id, client_secret, redirect_uris, …}' },
  { name: 'require_password', type: 'boolean', default: 'true', doc: 'ask a password instead of offering a pick list (false only in the sandbox)' },
  { name: 'issuer', type: 'url', doc: 'OIDC issuer identifier (default: the part\'s public URL)' },
  { name: 'oidc_store_key', type: 'string', secret: true, doc: 'AES-256 key (32 bytes base64url) sealing OIDC sessions and grants in the store; the same for every instance (default: one per process)' },
];

export const identitySettings: PartSettings = [
  ...common,
  { name: 'verklaring_ttl_seconds', type: 'integer', min: 60, default: '28800', doc: 'lifetime of a Dezi-like verklaring (one shift)' },
  OPERATOR_URA_SETTING,
];

export const citizenIdentitySettings: PartSettings = [
  ...common,
  { name: 'loa', type: 'string', doc: 'level of assurance claimed (default: substantial with passwords, low otherwise)' },
];

function commonOf(s: SettingValues) {
  return {
    directory: s.optionalString('directory'),
    clients: s.optionalJson('clients'),
    requirePassword: s.boolean('require_password'),
    issuer: s.optionalString('issuer'),
    oidcStoreKey: s.optionalString('oidc_store_key'),
  };
}

/** The professional identity provider's settings, typed with their defaults; a bad value refuses the start. */
export function identitySettingsOf(given: Record<string, string | undefined>) {
  const s = readSettings('identity', identitySettings, given);
  return { ...commonOf(s), verklaringTtlSeconds: s.integer('verklaring_ttl_seconds'), operatorUra: s.string('operator_ura') };
}

/** The citizen identity provider's settings, typed with their defaults; a bad value refuses the start. */
export function citizenIdentitySettingsOf(given: Record<string, string | undefined>) {
  const s = readSettings('citizen-identity', citizenIdentitySettings, given);
  return { ...commonOf(s), loa: s.optionalString('loa') };
}

/** What both providers read. */
export type ProviderSettingValues = ReturnType<typeof commonOf>;
