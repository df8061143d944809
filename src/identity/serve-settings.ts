import { OPERATOR_URA_SETTING } from '../kit/common-settings.ts';
import type { PartSettings, SettingDeclaration } from '../kit/part-settings.ts';

const common: SettingDeclaration[] = [
  { name: 'directory', type: { oneOf: ['cast'] }, required: true, doc: 'who can log in: "cast" (the sandbox\'s fictional people) is the only built-in directory; the part does not start without one' },
  { name: 'clients', type: 'json', doc: 'registered OIDC clients: JSON array of {client_id, client_secret, redirect_uris, …}' },
  { name: 'require_password', type: 'boolean', default: 'true', doc: 'ask a password instead of offering a pick list (false only in the sandbox)' },
  { name: 'issuer', type: 'url', doc: 'OIDC issuer identifier (default: the part\'s public URL)' },
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
