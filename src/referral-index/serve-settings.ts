import { AGREEMENTS_REFRESH_SETTING, prsRecipientSettings, TOKENS_SETTING } from '../kit/common-settings.ts';
import { type PartSettings, readSettings } from '../kit/part-settings.ts';

export const nviSettings: PartSettings = [
  AGREEMENTS_REFRESH_SETTING,
  ...prsRecipientSettings('nvi', 'index_key', 'referral index'),
  { name: 'nvi_crypto_workers', type: 'string', default: 'auto', doc: 'worker threads for per-lookup crypto: "auto" (cores), a number, or "off"/0 (inline)' },
  TOKENS_SETTING,
];

/** The NVI's settings, typed with their defaults; a bad value refuses the start. */
export function nviSettingsOf(given: Record<string, string | undefined>) {
  const s = readSettings('nvi', nviSettings, given);
  return { cryptoWorkers: s.string('nvi_crypto_workers') };
}
