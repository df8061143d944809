import { TOKENS_SETTING } from '../kit/common-settings.ts';
import { type PartSettings, readSettings } from '../kit/part-settings.ts';

export const prsSettings: PartSettings = [
  { name: 'prs_master_seed', type: 'hex', secret: true, doc: 'master seed (≥ 32 bytes hex) every OPRF key derives from; the same for every instance; losing it loses every pseudonym' },
  { name: 'prs_key_versions', type: 'string', default: '1', doc: 'active key versions, e.g. "1,2": all are evaluated, the highest is current (rotation keeps old pseudonyms findable)' },
  { name: 'prs_token_ttl_seconds', type: 'integer', min: 1, default: '300', doc: 'lifetime of a PRS token (at most 300)' },
  TOKENS_SETTING,
];

/** The PRS's settings, typed with their defaults; a bad value refuses the start. */
export function prsSettingsOf(given: Record<string, string | undefined>) {
  const s = readSettings('prs', prsSettings, given);
  return { masterSeed: s.optionalString('prs_master_seed'), keyVersions: s.string('prs_key_versions'), tokenTtlSeconds: s.integer('prs_token_ttl_seconds') };
}
