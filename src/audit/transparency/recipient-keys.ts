import type { PartContext } from '../../kit/part.ts';
import { type RecipientKeys, announceToPrs as announce, loadRecipientKeys } from '../../pseudonyms/contract.ts';

// The transparency part as a PRS recipient, like the NVI (src/pseudonyms/recipient-keys.ts): the
// RSA key PRS tokens are encrypted to (registered under scope "transparency") and the HMAC key
// that turns an unblinded element into the stable pseudonym it stores. Settings
// TRANSPARENCY_PRS_PRIVATE_JWK (JSON) and TRANSPARENCY_PSEUDONYM_KEY (hex).

export const TRANSPARENCY_RECIPIENT_SCOPE = 'transparency';

export interface TransparencyRecipientKeys extends RecipientKeys {
  /** HMAC key for the stable pseudonym. */
  pseudonymKey: Uint8Array;
}

export async function loadTransparencyRecipientKeys(ctx: PartContext): Promise<TransparencyRecipientKeys> {
  const keys = await loadRecipientKeys(ctx, {
    prefix: 'TRANSPARENCY',
    hmacSetting: 'PSEUDONYM_KEY',
    scope: TRANSPARENCY_RECIPIENT_SCOPE,
    // Citizens find their accesses by the stored pseudonym: a lost key would hide them all.
    hasData: async () => (await ctx.store.query('SELECT 1 FROM tlog_entry WHERE pseudonym IS NOT NULL LIMIT 1')).length > 0,
  });
  return { ...keys, pseudonymKey: keys.hmacKey };
}

export const announceToPrs = (ctx: PartContext, keys: TransparencyRecipientKeys) => announce(ctx, keys);
