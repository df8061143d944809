import type { PartContext } from '../kit/part.ts';
import { type RecipientKeys, announceToPrs as announce, loadRecipientKeys } from '../pseudonyms/contract.ts';
import { NVI_RECIPIENT_SCOPE, type SubjectKeys } from './subject-hash.ts';

// The NVI as a PRS recipient (src/pseudonyms/recipient-keys.ts): its JWE key and the HMAC key of
// its index. Settings NVI_PRS_PRIVATE_JWK (JSON) and NVI_INDEX_KEY (hex).

export interface NviKeys extends Omit<SubjectKeys, 'decryptionKey'>, RecipientKeys {}

export async function loadNviKeys(ctx: PartContext): Promise<NviKeys> {
  const keys = await loadRecipientKeys(ctx, {
    prefix: 'NVI',
    hmacSetting: 'INDEX_KEY',
    scope: NVI_RECIPIENT_SCOPE,
    // Referrals are stored under the index key: a lost key would leave them all unfindable.
    hasData: async () => (await ctx.store.query('SELECT 1 FROM referrals LIMIT 1')).length > 0,
  });
  return { ...keys, indexKey: keys.hmacKey };
}

export const announceToPrs = (ctx: PartContext, keys: NviKeys) => announce(ctx, keys);
