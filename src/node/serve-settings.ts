import { IDENTITY_ISSUER_SETTINGS, OPERATOR_URA_SETTING } from '../kit/common-settings.ts';
import { type PartSettings, readSettings } from '../kit/part-settings.ts';

export const nodeSettings: PartSettings = [
  { name: 'tenants', type: 'file', required: true, doc: 'JSON file: array of {ura, name, type, certFile, keyFile, ehrBaseUrl}, one per care organisation on this node' },
  { name: 'node_name', type: 'string', default: 'node', doc: 'name of this node in logs and its store schema' },
  { name: 'overview_deadline_ms', type: 'integer', min: 1, default: '3000', doc: 'deadline of an overview fan-out to holders' },
  { name: 'referral_sync_ms', type: 'integer', min: 1, default: '60000', doc: 'how often local records are registered at the referral index' },
  { name: 'overviews_per_requester', type: 'integer', min: 1, default: '8', doc: 'overviews one requester may have in progress at once (more are answered 429)' },
  { name: 'holder_calls_per_overview', type: 'integer', min: 1, default: '16', doc: 'holder calls one overview may have in flight at once' },
  { name: 'viewer', type: 'boolean', default: 'false', doc: 'serve the clinician viewer at /viewer/ (client viewer-<node_name> at the identity part; the sandbox turns it on)' },
  { name: 'consent_cache_ms', type: 'integer', default: '4000', doc: 'how long a consent decision is cached (0 = not cached)' },
  { name: 'citizen_audience', type: 'string', default: 'portal', doc: 'audience of citizen tokens the node accepts (its citizen API)' },
  { name: 'audit_outbox_key', type: 'string', secret: true, doc: 'AES-256 key (32 bytes base64url) sealing BSNs in the audit outbox (created in the store when absent)' },
  { name: 'audit_retention_days', type: 'integer', default: '0', doc: 'prune local audit records older than this many days behind a signed checkpoint (0 = keep forever)' },
  { name: 'bulk_export_lease_ms', type: 'integer', default: '30000', doc: 'how long an instance holds a bulk-export job before another may take it over' },
  { name: 'bulk_export_takeover_ms', type: 'integer', default: '10000', doc: 'how often an instance looks for bulk-export jobs whose lease ran out' },
  { name: 'ncpeh_url', type: 'url', doc: "where the NCPeH's keys are fetched for cross-border user assertions (default: the network's ncpeh)" },
  ...IDENTITY_ISSUER_SETTINGS,
  OPERATOR_URA_SETTING,
];

/** The node's settings, typed with their defaults; a bad value refuses the start. */
export function nodeSettingsOf(given: Record<string, string | undefined>) {
  const s = readSettings('node', nodeSettings, given);
  return {
    tenantsFile: s.optionalString('tenants'),
    nodeName: s.string('node_name'),
    overviewDeadlineMs: s.integer('overview_deadline_ms'),
    referralSyncMs: s.integer('referral_sync_ms'),
    fanOut: { overviews: s.integer('overviews_per_requester'), holders: s.integer('holder_calls_per_overview') },
    viewer: s.boolean('viewer'),
    consentCacheMs: s.integer('consent_cache_ms'),
    citizenAudience: s.string('citizen_audience'),
    auditOutboxKey: s.optionalString('audit_outbox_key'),
    auditRetentionDays: s.integer('audit_retention_days'),
    bulkExportLeaseMs: s.integer('bulk_export_lease_ms'),
    bulkExportTakeoverMs: s.integer('bulk_export_takeover_ms'),
    ncpehUrl: s.optionalString('ncpeh_url'),
    identityIssuer: s.optionalString('identity_issuer'),
    identityJwks: s.optionalString('identity_jwks'),
  };
}
export type NodeSettingValues = ReturnType<typeof nodeSettingsOf>;
