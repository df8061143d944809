import type { PartSettings } from '../kit/part-settings.ts';

export const hdabSettings: PartSettings = [
  { name: 'operator_ura', type: 'ura', default: '90000001', doc: "URA of the HDAB operator's certificate (decides on permits, starts extractions)" },
  { name: 'operator_system_number', type: 'string', default: '1', doc: "UZI system number of the operator's certificate" },
  { name: 'workspace_dir', type: 'string', doc: 'where the per-permit DuckDB workspaces live (default: <data dir>/workspaces, else a temporary directory)' },
  { name: 'researcher_portal_thumbprint', type: 'string', doc: "SHA-256 thumbprint of the portal's certificate: the only caller whose researcher verklaring header counts (absent: researchers work only through their organisation's own certificate)" },
  { name: 'identity_issuer', type: 'url', doc: 'issuer of researchers\' verklaringen (default: the network\'s identity part)' },
  { name: 'identity_jwks', type: 'url', doc: 'key set of that issuer (default <identity_issuer>/dezi/jwks.json)' },
  { name: 'expiry_interval_ms', type: 'integer', min: 1000, default: '60000', doc: 'how often expired permits are looked for (their workspaces are destroyed)' },
];
