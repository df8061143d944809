import { transparencySettings } from '../audit/transparency/serve-settings.ts';
import { consentSettings } from '../consent/serve-settings.ts';
import { directorySettings } from '../directory/serve-settings.ts';
import { citizenIdentitySettings, identitySettings } from '../identity/serve-settings.ts';
import { KIT_SETTINGS } from '../kit/common-settings.ts';
import { checkSettings, type PartSettings, settingsHelp } from '../kit/part-settings.ts';
import { ehrSimSettings } from '../node/ehr-sim/serve-settings.ts';
import { nodeSettings } from '../node/serve-settings.ts';
import { ncpehSettings } from '../ncpeh/serve-settings.ts';
import { portalSettings } from '../portals/serve-settings.ts';
import { prsSettings } from '../pseudonyms/serve-settings.ts';
import { nviSettings } from '../referral-index/serve-settings.ts';
import { hdabSettings } from '../secondary-use/serve-settings.ts';
import { trustSettings } from '../trust/serve-settings.ts';

// Each part's declared settings, by `ldn serve` name (declarations live in src/<part>/serve-settings.ts).

export const DECLARED_SETTINGS: Record<string, PartSettings> = {
  trust: trustSettings,
  directory: directorySettings,
  prs: prsSettings,
  nvi: nviSettings,
  consent: consentSettings,
  transparency: transparencySettings,
  identity: identitySettings,
  'citizen-identity': citizenIdentitySettings,
  portal: portalSettings,
  node: nodeSettings,
  ncpeh: ncpehSettings,
  'ehr-sim': ehrSimSettings,
  hdab: hdabSettings,
};

/** The part named after `serve` on the command line (for `ldn serve <part> --help`). */
export function partInArgv(argv: readonly string[]): string | undefined {
  const i = argv.indexOf('serve');
  return i >= 0 ? argv.slice(i + 1).find((a) => !a.startsWith('-')) : undefined;
}

/** Help text listing the settings of the part named on the command line, or of how to get them. */
export function serveSettingsHelp(argv: readonly string[]): string {
  const part = partInArgv(argv);
  const declared = part ? DECLARED_SETTINGS[part] : undefined;
  if (!part || !declared) return `\nEvery part's settings: ldn serve <part> --help (parts: ${Object.keys(DECLARED_SETTINGS).join(', ')})`;
  return settingsHelp(part, withKitSettings(declared));
}

/**
 * Checks a part's settings before it starts: returns the lines to print and whether to refuse.
 * Unknown names are reported (a typo otherwise silently falls back to a default), not refused.
 */
export function vetSettings(part: string, settings: Record<string, string | undefined>): { refuse: boolean; lines: string[] } {
  const declared = DECLARED_SETTINGS[part];
  if (!declared) return { refuse: false, lines: [] };
  const { problems, unknown } = checkSettings(withKitSettings(declared), settings);
  const lines = [
    ...problems.map((p) => `ldn serve ${part}: ${p}`),
    ...unknown.map((u) => `ldn serve ${part}: warning: unknown setting ${u}; see ldn serve ${part} --help`),
  ];
  return { refuse: problems.length > 0, lines };
}

/** Every part takes the kit's settings (the key-encryption key of its store, the rate-limit scale). */
function withKitSettings(declared: PartSettings): PartSettings {
  return [...declared, ...KIT_SETTINGS.filter((k) => !declared.some((d) => d.name === k.name))];
}
