import { AGREEMENTS_REFRESH_SETTING } from '../kit/common-settings.ts';
import type { PartSettings } from '../kit/part-settings.ts';

export const consentSettings: PartSettings = [
  AGREEMENTS_REFRESH_SETTING,
  { name: 'consent_delivery_interval_ms', type: 'integer', min: 50, default: '1000', doc: 'how often consent-change notifications are delivered to subscribers' },
];
