import { IDENTITY_ISSUER_SETTINGS, OPERATOR_URA_SETTING } from '../kit/common-settings.ts';
import { type PartSettings, readSettings } from '../kit/part-settings.ts';

export const trustSettings: PartSettings = [
  { name: 'ca_cert_file', type: 'file', doc: 'network CA certificate (PEM); with ca_key_file the trust part signs participants\' CSRs (POST /certificates)' },
  { name: 'ca_key_file', type: 'file', secret: true, doc: 'network CA private key (PKCS#8 PEM); keep it on this host only, readable by the service user' },
  OPERATOR_URA_SETTING,
  { name: 'operator_system_number', type: 'string', doc: 'when set, only the operator certificate with this UZI system number may administer' },
  ...IDENTITY_ISSUER_SETTINGS,
];

/** The trust part's settings, typed with their defaults; a bad value refuses the start. */
export function trustSettingsOf(given: Record<string, string | undefined>) {
  const s = readSettings('trust', trustSettings, given);
  return {
    caCertFile: s.optionalString('ca_cert_file'),
    caKeyFile: s.optionalString('ca_key_file'),
    operatorUra: s.string('operator_ura'),
    operatorSystemNumber: s.optionalString('operator_system_number'),
    identityIssuer: s.optionalString('identity_issuer'),
    identityJwks: s.optionalString('identity_jwks'),
  };
}
