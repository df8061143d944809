import { AGREEMENTS_REFRESH_SETTING, IDENTITY_ISSUER_SETTINGS } from '../kit/common-settings.ts';
import { type PartSettings, readSettings } from '../kit/part-settings.ts';

export const ncpehSettings: PartSettings = [
  { name: 'trust_list', type: 'file', required: true, doc: 'JSON file: the MyHealth@EU trust list signed by every member ({content, signatures})' },
  { name: 'signing_key', type: 'file', required: true, secret: true, doc: "JSON file: this NCPeH's private ES256 JWK (its key on the trust list)" },
  { name: 'gateway_cert', type: 'file', required: true, doc: 'PEM: the cross-border gateway certificate (its thumbprint is on the trust list)' },
  { name: 'gateway_key', type: 'file', required: true, secret: true, doc: 'PEM: the gateway certificate\'s key' },
  { name: 'gateway_host', type: 'string', default: '0.0.0.0', doc: 'where the cross-border gateway listens' },
  { name: 'gateway_port', type: 'integer', min: 1, default: '9443', doc: 'port of the cross-border gateway' },
  { name: 'node_tenant_url', type: 'url', required: true, doc: 'the NCPeH organisation on its node, https://<node>/org/<URA>: where it asks $summary and $overview' },
  AGREEMENTS_REFRESH_SETTING,
  { name: 'deadline_ms', type: 'integer', min: 1, default: '30000', doc: 'deadline of one request into the Dutch network' },
  ...IDENTITY_ISSUER_SETTINGS,
];

/** The NCPeH's settings, typed with their defaults; a bad value refuses the start. */
export function ncpehSettingsOf(given: Record<string, string | undefined>) {
  const s = readSettings('ncpeh', ncpehSettings, given);
  return {
    trustListFile: s.optionalString('trust_list'),
    signingKeyFile: s.optionalString('signing_key'),
    gatewayCertFile: s.optionalString('gateway_cert'),
    gatewayKeyFile: s.optionalString('gateway_key'),
    gatewayHost: s.string('gateway_host'),
    gatewayPort: s.integer('gateway_port'),
    nodeTenantUrl: s.optionalString('node_tenant_url'),
    agreementsRefreshMs: s.integer('agreements_refresh_ms'),
    deadlineMs: s.integer('deadline_ms'),
    identityIssuer: s.optionalString('identity_issuer'),
    identityJwks: s.optionalString('identity_jwks'),
  };
}
