import { AGREEMENTS_REFRESH_SETTING, prsRecipientSettings, TOKENS_SETTING } from '../kit/common-settings.ts';
import type { PartSettings } from '../kit/part-settings.ts';

export const nviSettings: PartSettings = [
  AGREEMENTS_REFRESH_SETTING,
  ...prsRecipientSettings('nvi', 'index_key', 'referral index'),
  { name: 'nvi_crypto_workers', type: 'string', default: 'auto', doc: 'worker threads for per-lookup crypto: "auto" (cores), a number, or "off"/0 (inline)' },
  TOKENS_SETTING,
];
