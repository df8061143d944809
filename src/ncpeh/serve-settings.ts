import { AGREEMENTS_REFRESH_SETTING } from '../kit/common-settings.ts';
import type { PartSettings } from '../kit/part-settings.ts';

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
];
