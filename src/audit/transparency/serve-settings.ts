import { AGREEMENTS_REFRESH_SETTING, DEFAULT_OPERATOR_URA, prsRecipientSettings, TOKENS_SETTING } from '../../kit/common-settings.ts';
import type { PartSettings } from '../../kit/part-settings.ts';

export const transparencySettings: PartSettings = [
  AGREEMENTS_REFRESH_SETTING,
  ...prsRecipientSettings('transparency', 'pseudonym_key', 'access log'),
  { name: 'transparency_portal_ura', type: 'ura', default: DEFAULT_OPERATOR_URA, doc: 'URA of the citizen portal allowed to read a citizen\'s access log' },
  { name: 'transparency_max_delivery_delay_ms', type: 'integer', default: '86400000', doc: 'how late a node may deliver an access event with a PRS token fetched at delivery (max 7 days)' },
  { name: 'tree_head_interval_ms', type: 'integer', min: 100, default: '10000', doc: 'how often a signed tree head is made' },
  { name: 'transparency_retention_days', type: 'integer', default: '0', doc: 'clear event bodies and pseudonyms older than this many days (0 = keep forever); leaves and proofs stay' },
  TOKENS_SETTING,
];
