import { AGREEMENTS_REFRESH_SETTING } from '../kit/common-settings.ts';
import { type PartSettings, readSettings } from '../kit/part-settings.ts';

export const consentSettings: PartSettings = [
  AGREEMENTS_REFRESH_SETTING,
  { name: 'consent_delivery_interval_ms', type: 'integer', min: 50, default: '1000', doc: 'how often consent-change notifications are delivered to subscribers' },
  { name: 'citizen_token_audience', type: 'string', default: 'portal', doc: "audience of the citizen provider's tokens this part accepts (the portal's OIDC client id)" },
];

/** The consent part's settings, typed with their defaults; a bad value refuses the start. */
export function consentSettingsOf(given: Record<string, string | undefined>) {
  const s = readSettings('consent', consentSettings, given);
  return {
    agreementsRefreshMs: s.integer('agreements_refresh_ms'),
    deliveryIntervalMs: s.integer('consent_delivery_interval_ms'),
    citizenTokenAudience: s.string('citizen_token_audience'),
  };
}
