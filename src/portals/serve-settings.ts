import type { PartSettings } from '../kit/part-settings.ts';

export const portalSettings: PartSettings = [
  { name: 'operator_password', type: 'string', secret: true, doc: 'password of the operator dashboard; required outside the sandbox' },
  { name: 'sandbox', type: 'boolean', default: 'false', doc: 'sandbox conveniences (no operator password)' },
  { name: 'operator_cert_file', type: 'file', doc: 'operator certificate (PEM) the dashboard uses for the trust part\'s operator API' },
  { name: 'operator_key_file', type: 'file', secret: true, doc: 'its private key (PEM)' },
  { name: 'nodes', type: 'json', doc: 'nodes the operator dashboard monitors: JSON object name → URL' },
  { name: 'portal_ura', type: 'ura', doc: 'URA the portal acts for (default: the URA in its certificate)' },
  { name: 'citizen_client_id', type: 'string', default: 'portal', doc: 'OIDC client id at the citizen identity part' },
  { name: 'citizen_client_secret', type: 'string', secret: true, doc: 'OIDC client secret at the citizen identity part' },
  { name: 'research_client_id', type: 'string', default: 'research-portal', doc: 'OIDC client id of the research environment (/research) at the professional identity part' },
  { name: 'research_client_secret', type: 'string', secret: true, doc: 'OIDC client secret of the research environment at the professional identity part' },
  { name: 'citizen_data_deadline_ms', type: 'integer', min: 1, doc: 'deadline for assembling a citizen\'s "my data" view' },
  { name: 'certificate_warning_days', type: 'integer', default: '30', doc: 'the dashboard warns this many days before a certificate expires' },
];
