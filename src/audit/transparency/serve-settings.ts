import { AGREEMENTS_REFRESH_SETTING, OPERATOR_URA_SETTING, prsRecipientSettings, TOKENS_SETTING } from '../../kit/common-settings.ts';
import { type PartSettings, readSettings } from '../../kit/part-settings.ts';

export const transparencySettings: PartSettings = [
  AGREEMENTS_REFRESH_SETTING,
  ...prsRecipientSettings('transparency', 'pseudonym_key', 'access log'),
  { name: 'transparency_portal_ura', type: 'ura', doc: "URA of the citizen portal allowed to read a citizen's access log (default: operator_ura)" },
  OPERATOR_URA_SETTING,
  { name: 'transparency_max_delivery_delay_ms', type: 'integer', default: '86400000', doc: 'how late a node may deliver an access event with a PRS token fetched at delivery (max 7 days)' },
  { name: 'tree_head_interval_ms', type: 'integer', min: 100, default: '10000', doc: 'how often a signed tree head is made' },
  { name: 'transparency_retention_days', type: 'integer', default: '0', doc: 'clear event bodies and pseudonyms older than this many days (0 = keep forever); leaves and proofs stay' },
  TOKENS_SETTING,
];

/** The transparency part's settings, typed with their defaults; a bad value refuses the start. */
export function transparencySettingsOf(given: Record<string, string | undefined>) {
  const s = readSettings('transparency', transparencySettings, given);
  return {
    portalUra: s.optionalString('transparency_portal_ura') ?? s.string('operator_ura'),
    maxDeliveryDelayMs: s.integer('transparency_max_delivery_delay_ms'),
    treeHeadIntervalMs: s.integer('tree_head_interval_ms'),
    retentionDays: s.integer('transparency_retention_days'),
  };
}
