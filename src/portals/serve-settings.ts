import { ConfigError } from '../kit/config.ts';
import { type PartSettings, readSettings } from '../kit/part-settings.ts';

export const portalSettings: PartSettings = [
  { name: 'operator_password', type: 'string', secret: true, doc: 'password of the operator dashboard; required outside the sandbox' },
  { name: 'sandbox', type: 'boolean', default: 'false', doc: 'sandbox conveniences (no operator password)' },
  { name: 'operator_cert_file', type: 'file', doc: 'operator certificate (PEM) the dashboard uses for the trust part\'s operator API' },
  { name: 'operator_key_file', type: 'file', secret: true, doc: 'its private key (PEM)' },
  { name: 'operator_ura', type: 'ura', doc: "the operator's own participant, never offered for suspension or revocation (default: the URA in the operator certificate)" },
  { name: 'nodes', type: 'json', doc: 'nodes the operator dashboard monitors: JSON object name → URL' },
  { name: 'portal_ura', type: 'ura', doc: 'URA the portal acts for (default: the URA in its certificate)' },
  { name: 'citizen_client_id', type: 'string', default: 'portal', doc: 'OIDC client id at the citizen identity part' },
  { name: 'citizen_client_secret', type: 'string', secret: true, doc: 'OIDC client secret at the citizen identity part' },
  { name: 'research_client_id', type: 'string', default: 'research-portal', doc: 'OIDC client id of the research environment (/research) at the professional identity part' },
  { name: 'research_client_secret', type: 'string', secret: true, doc: 'OIDC client secret of the research environment at the professional identity part' },
  { name: 'citizen_data_deadline_ms', type: 'integer', min: 1, doc: 'deadline for assembling a citizen\'s "my data" view (default 5000)' },
  { name: 'certificate_warning_days', type: 'integer', default: '30', doc: 'the dashboard warns this many days before a certificate expires' },
  { name: 'app_register_cache_ms', type: 'integer', default: '30000', doc: "how long the trust part's register of citizen apps is reused (an operator's suspension takes effect within it)" },
];

/** The portal's settings, typed with their defaults; a bad value refuses the start. */
export function portalSettingsOf(given: Record<string, string | undefined>) {
  const s = readSettings('portal', portalSettings, given);
  const nodes = s.optionalJson('nodes') ?? {};
  if (typeof nodes !== 'object' || nodes === null || Array.isArray(nodes) || !Object.values(nodes).every((u) => typeof u === 'string')) {
    throw new ConfigError(['portal: setting nodes (LDN_SETTING_NODES) must be a JSON object of name → URL']);
  }
  return {
    operatorPassword: s.optionalString('operator_password'),
    sandbox: s.boolean('sandbox'),
    operatorCertFile: s.optionalString('operator_cert_file'),
    operatorKeyFile: s.optionalString('operator_key_file'),
    operatorUra: s.optionalString('operator_ura'),
    nodes: nodes as Record<string, string>,
    portalUra: s.optionalString('portal_ura'),
    citizenClientId: s.string('citizen_client_id'),
    citizenClientSecret: s.optionalString('citizen_client_secret'),
    researchClientId: s.string('research_client_id'),
    researchClientSecret: s.optionalString('research_client_secret'),
    citizenDataDeadlineMs: s.optionalInteger('citizen_data_deadline_ms'),
    certificateWarningDays: s.integer('certificate_warning_days'),
    appRegisterCacheMs: s.integer('app_register_cache_ms'),
  };
}
