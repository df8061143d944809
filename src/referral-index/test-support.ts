import { randomBytes } from 'node:crypto';
import { generateKeyPair } from 'jose';
import { evaluateForRecipient } from '../pseudonyms/evaluate.ts';
import { pseudonymToken } from '../pseudonyms/holder.ts';
import { KeyRing } from '../pseudonyms/keyring.ts';
import { NVI_RECIPIENT_SCOPE, type SubjectKeys } from './subject-hash.ts';

// Tests only: a PRS in process and the NVI's keys, so the NVI logic runs on real pseudonyms.

export const TEST_NVI_URA = '90000001';

export async function inProcessPseudonyms(versions = [1]) {
  const seed = randomBytes(32);
  const { publicKey, privateKey } = await generateKeyPair('RSA-OAEP-256', { extractable: true });
  let keyring = new KeyRing({ seed, versions });
  const keys: SubjectKeys = {
    audience: `ura:${TEST_NVI_URA}`,
    scope: NVI_RECIPIENT_SCOPE,
    decryptionKey: privateKey,
    indexKey: randomBytes(32),
  };
  return {
    keys,
    publicKey,
    /** The NviIdentifier value a holder would send for this BSN. */
    token: (bsn: string) =>
      pseudonymToken(bsn, keys.audience, keys.scope, (req) => evaluateForRecipient(req, { keyring, recipientKey: async () => ({ key: publicKey }) })),
    rotate(v: number[]) {
      keyring = new KeyRing({ seed, versions: v });
    },
  };
}
