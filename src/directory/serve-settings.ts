import { TOKENS_SETTING } from '../kit/common-settings.ts';
import type { PartSettings } from '../kit/part-settings.ts';

export const directorySettings: PartSettings = [TOKENS_SETTING];
