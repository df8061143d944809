// What other parts may use of the pseudonym service's own vocabulary: its error codes (a refused
// token, an invalid BSN), to test for the code instead of the wording. Its client and the
// recipient library other parts embed follow below.

export { GroupRefused, InvalidBsnError, JweRefused, PRS_ERRORS, PrsError, type PrsErrorCode, TokenRefused } from './errors.ts';

// Its client, and the recipient library a part that receives pseudonyms embeds (its keys,
// announced to the PRS; decrypting what the PRS sends it), and the token guard its
// pseudonym-taking routes share with the NVI, the directory and the transparency log.
export { PrsClient } from './client.ts';
export { isRecipientOrganization, isRecipientScope } from './input.ts';
export { decodePseudonymToken, looksLikeBsn } from './nvi-identifier.ts';
export { announceToPrs, importDecryptionKey, loadRecipientKeys, type RecipientKeys } from './recipient-secrets.ts';
export { recipientElements } from './recipient.ts';
export { sodiumReady } from './sodium.ts';
export { tokenGuard, type TokenGuardOptions, type TokenMode } from './token-guard.ts';
