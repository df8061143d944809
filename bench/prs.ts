import { randomBytes } from 'node:crypto';
import { ristretto255 } from '@noble/curves/ed25519.js';
import { CompactEncrypt, generateKeyPair } from 'jose';
import { testBsn } from '../src/kit/identifiers/bsn.ts';
import { evaluateForRecipient } from '../src/pseudonyms/evaluate.ts';
import { pseudonymInput } from '../src/pseudonyms/input.ts';
import { KeyRing } from '../src/pseudonyms/keyring.ts';
import { sealRsaOaep256A256Gcm } from '../src/pseudonyms/jwe-seal.ts';
import { blindInput } from '../src/pseudonyms/oprf.ts';
import { rawSodium, sodiumReady } from '../src/pseudonyms/sodium.ts';
import { argValue, figure } from './lib/report.ts';

// PRS evaluations per second, single thread: the whole server operation (parse and validate the
// request, BlindEvaluate under the recipient's key, JWE RSA-OAEP-256/A256GCM to the recipient)
// against raw libsodium crypto_scalarmult_ristretto255 on the same elements in the same run.
// Rounds alternate (raw, PRS, raw, PRS, …) so a noisy neighbour on the machine hits both alike;
// the figure is the median ratio. Breakdown figures say where the rest of the time goes.
//   npm run bench -- prs [--seconds 2] [--rounds 3] [--versions 1]

async function rate(seconds: number, fn: () => unknown | Promise<unknown>): Promise<number> {
  const warm = performance.now();
  while (performance.now() - warm < 200) await fn();
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < seconds * 1000) {
    await fn();
    n++;
  }
  return n / ((performance.now() - start) / 1000);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

export async function run(args: string[]): Promise<void> {
  const seconds = argValue(args, '--seconds', 2);
  const rounds = argValue(args, '--rounds', 3);
  const versions = argValue(args, '--versions', 1);
  await sodiumReady();
  const sodium = rawSodium();
  const recipientOrganization = 'ura:90000001';
  const recipientScope = 'nationale-verwijsindex';
  const keyring = new KeyRing({ seed: randomBytes(32), versions: Array.from({ length: versions }, (_, i) => i + 1) });
  const { publicKey } = await generateKeyPair('RSA-OAEP-256');
  const requests = Array.from({ length: 64 }, (_, i) => ({
    encryptedPersonalId: Buffer.from(blindInput(pseudonymInput(testBsn(i), recipientOrganization, recipientScope)).blinded).toString('base64url'),
    recipientOrganization,
    recipientScope,
  }));
  const elements = requests.map((r) => new Uint8Array(Buffer.from(r.encryptedPersonalId, 'base64url')));
  const secretKey = keyring.keysFor(recipientOrganization, recipientScope)[0].secretKey;
  const deps = { keyring, recipientKey: async () => ({ key: publicKey }) };

  let i = 0;
  const prs = () => evaluateForRecipient(requests[i++ % requests.length], deps);
  let j = 0;
  const raw = () => sodium.crypto_scalarmult_ristretto255(secretKey, elements[j++ % elements.length]);

  const prsRates: number[] = [];
  const rawRates: number[] = [];
  const ratios: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const a = await rate(seconds, raw);
    const b = await rate(seconds, prs);
    rawRates.push(a);
    prsRates.push(b);
    ratios.push(b / a);
  }

  // Where the rest goes: the JWE seal alone (ours from node:crypto, and jose's WebCrypto route it
  // replaced), and the pure-JS multiplication the PRS used before.
  const plaintext = new TextEncoder().encode(JSON.stringify({ subject: `pseudonym:eval:${'A'.repeat(43)}`, aud: recipientOrganization, scope: recipientScope, iat: 0, exp: 300, version: 1, extra_versions: {} }));
  const seal = await rate(seconds, () => sealRsaOaep256A256Gcm(plaintext, publicKey, { typ: 'prs-eval+json' }));
  const joseSeal = await rate(seconds, () => new CompactEncrypt(plaintext).setProtectedHeader({ alg: 'RSA-OAEP-256', enc: 'A256GCM' }).encrypt(publicKey));
  const { Point } = ristretto255;
  const k = Point.Fn.fromBytes(secretKey);
  let m = 0;
  const noble = await rate(Math.min(seconds, 1), () => Point.fromBytes(elements[m++ % elements.length]).multiply(k).toBytes());

  figure('prs', 'evals_per_s', median(prsRates), { unit: 'eval/s', keyVersions: versions, threads: 1, note: 'in-process: parse + BlindEvaluate (libsodium) + JWE seal' });
  figure('prs', 'libsodium_ristretto255_mul_per_s', median(rawRates), { unit: 'mul/s', threads: 1, note: 'crypto_scalarmult_ristretto255, libsodium-wrappers-sumo (WASM)' });
  figure('prs', 'evals_per_s_ratio', median(ratios), {
    ceiling: 'raw libsodium crypto_scalarmult_ristretto255, same elements, same run',
    target: 0.6,
    rounds: ratios.map((x) => Number(x.toFixed(3))),
  });
  figure('prs', 'jwe_seal_per_s', seal, { unit: 'seal/s', note: 'node:crypto RSA-OAEP-256 (2048-bit) + A256GCM compact JWE (PRS path)' });
  figure('prs', 'jose_jwe_seal_per_s', joseSeal, { unit: 'seal/s', note: 'jose CompactEncrypt, same algorithms (previous PRS path)' });
  figure('prs', 'noble_ristretto255_mul_per_s', noble, { unit: 'mul/s', note: 'pure-JS decode + multiply + encode (what the PRS used before)' });
}
