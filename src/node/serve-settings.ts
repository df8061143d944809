import { OPERATOR_URA_SETTING } from '../kit/common-settings.ts';
import type { PartSettings } from '../kit/part-settings.ts';

export const nodeSettings: PartSettings = [
  { name: 'tenants', type: 'file', required: true, doc: 'JSON file: array of {ura, name, type, certFile, keyFile, ehrBaseUrl}, one per care organisation on this node' },
  { name: 'node_name', type: 'string', default: 'node', doc: 'name of this node in logs and its store schema' },
  { name: 'overview_deadline_ms', type: 'integer', min: 1, default: '3000', doc: 'deadline of an overview fan-out to holders' },
  { name: 'referral_sync_ms', type: 'integer', min: 1, default: '60000', doc: 'how often local records are registered at the referral index' },
  { name: 'viewer', type: 'boolean', default: 'false', doc: 'serve the clinician viewer at /viewer/ (client viewer-<node_name> at the identity part; the sandbox turns it on)' },
  { name: 'consent_cache_ms', type: 'integer', default: '4000', doc: 'how long a consent decision is cached (0 = not cached)' },
  { name: 'citizen_audience', type: 'string', doc: 'audience of citizen tokens the node accepts (its citizen API)' },
  { name: 'audit_outbox_key', type: 'string', secret: true, doc: 'AES-256 key (32 bytes base64url) sealing BSNs in the audit outbox (created in the store when absent)' },
  { name: 'audit_retention_days', type: 'integer', default: '0', doc: 'prune local audit records older than this many days behind a signed checkpoint (0 = keep forever)' },
  OPERATOR_URA_SETTING,
];
