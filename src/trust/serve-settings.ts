import { OPERATOR_URA_SETTING } from '../kit/common-settings.ts';
import type { PartSettings } from '../kit/part-settings.ts';

export const trustSettings: PartSettings = [
  { name: 'ca_cert_file', type: 'file', doc: 'network CA certificate (PEM); with ca_key_file the trust part signs participants\' CSRs (POST /certificates)' },
  { name: 'ca_key_file', type: 'file', secret: true, doc: 'network CA private key (PKCS#8 PEM); keep it on this host only, readable by the service user' },
  OPERATOR_URA_SETTING,
  { name: 'operator_system_number', type: 'string', doc: 'when set, only the operator certificate with this UZI system number may administer' },
  { name: 'identity_issuer', type: 'url', doc: 'issuer of Dezi-like verklaringen accepted in token requests (default: the network\'s identity part)' },
  { name: 'identity_jwks', type: 'url', doc: 'key set of that issuer (default <identity_issuer>/dezi/jwks.json)' },
];
