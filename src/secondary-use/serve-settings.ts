import { DEFAULT_OPERATOR_URA, IDENTITY_ISSUER_SETTINGS } from '../kit/common-settings.ts';
import { type PartSettings, readSettings } from '../kit/part-settings.ts';

export const hdabSettings: PartSettings = [
  { name: 'operator_ura', type: 'ura', default: DEFAULT_OPERATOR_URA, doc: "URA of the HDAB operator's certificate (decides on permits, starts extractions)" },
  { name: 'operator_system_number', type: 'string', default: '1', doc: "UZI system number of the operator's certificate" },
  { name: 'workspace_dir', type: 'string', doc: 'where the per-permit DuckDB workspaces live (default: <data dir>/workspaces, else a temporary directory)' },
  { name: 'researcher_portal_thumbprint', type: 'string', doc: "SHA-256 thumbprint of the portal's certificate: the only caller whose researcher verklaring header counts (absent: researchers work only through their organisation's own certificate)" },
  ...IDENTITY_ISSUER_SETTINGS,
  { name: 'expiry_interval_ms', type: 'integer', min: 1000, default: '60000', doc: 'how often expired permits are looked for (their workspaces are destroyed)' },
];

/** The HDAB's settings, typed with their defaults; a bad value refuses the start. */
export function hdabSettingsOf(given: Record<string, string | undefined>) {
  const s = readSettings('hdab', hdabSettings, given);
  return {
    operatorUra: s.string('operator_ura'),
    operatorSystemNumber: s.string('operator_system_number'),
    workspaceDir: s.optionalString('workspace_dir'),
    researcherPortalThumbprint: s.optionalString('researcher_portal_thumbprint'),
    identityIssuer: s.optionalString('identity_issuer'),
    identityJwks: s.optionalString('identity_jwks'),
    expiryIntervalMs: s.integer('expiry_interval_ms'),
  };
}
