import { diffieHellman, generateKeyPairSync, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { ristretto255 } from '@noble/curves/ed25519.js';
import { generateKeyPair } from 'jose';
import { evaluateForRecipient } from '../src/pseudonyms/evaluate.ts';
import { pseudonymInput } from '../src/pseudonyms/input.ts';
import { KeyRing } from '../src/pseudonyms/keyring.ts';
import { blindInput } from '../src/pseudonyms/oprf.ts';
import { testBsn } from '../src/kit/identifiers/bsn.ts';
import { argValue, figure } from './lib/report.ts';

// PRS evaluations per second (the whole server operation: parse, OPRF BlindEvaluate under the
// recipient's key, JWE RSA-OAEP-256/A256GCM to the recipient) against raw scalar multiplication
// in the same run. The brief's ceiling is libsodium's ristretto255 scalarmult; the standard
// libsodium-wrappers build installed here has no ristretto255 functions (that needs the "sumo"
// build), so we report two ceilings: noble's raw ristretto255 Point.multiply (same arithmetic
// without the protocol around it) and node:crypto X25519 (native OpenSSL curve25519 scalar
// multiplication, the fastest curve25519 scalar multiplication available on this machine).

async function rate(seconds: number, fn: () => unknown | Promise<unknown>): Promise<number> {
  const warm = performance.now();
  while (performance.now() - warm < 300) await fn();
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < seconds * 1000) {
    await fn();
    n++;
  }
  return n / ((performance.now() - start) / 1000);
}

function libsodiumHasRistretto(): boolean {
  try {
    const sodium = createRequire(import.meta.url)('libsodium-wrappers') as Record<string, unknown>;
    return typeof sodium.crypto_scalarmult_ristretto255 === 'function';
  } catch {
    return false;
  }
}

export async function run(args: string[]): Promise<void> {
  const seconds = argValue(args, '--seconds', 3);
  const versions = argValue(args, '--versions', 1);
  const recipientOrganization = 'ura:90000001';
  const recipientScope = 'nationale-verwijsindex';
  const keyring = new KeyRing({ seed: randomBytes(32), versions: Array.from({ length: versions }, (_, i) => i + 1) });
  const { publicKey } = await generateKeyPair('RSA-OAEP-256');
  const requests = Array.from({ length: 64 }, (_, i) => ({
    encryptedPersonalId: Buffer.from(blindInput(pseudonymInput(testBsn(i), recipientOrganization, recipientScope)).blinded).toString('base64url'),
    recipientOrganization,
    recipientScope,
  }));
  let i = 0;
  const deps = { keyring, recipientKey: async () => ({ key: publicKey }) };
  const prs = await rate(seconds, () => evaluateForRecipient(requests[i++ % requests.length], deps));

  const { Point } = ristretto255;
  const scalar = Point.Fn.fromBytes(keyring.keysFor(recipientOrganization, recipientScope)[0].secretKey);
  const points = requests.map((r) => Point.fromBytes(Buffer.from(r.encryptedPersonalId, 'base64url')));
  let j = 0;
  const nobleRaw = await rate(seconds, () => points[j++ % points.length].multiply(scalar));

  const a = generateKeyPairSync('x25519');
  const peers = Array.from({ length: 64 }, () => generateKeyPairSync('x25519').publicKey);
  let k = 0;
  const x25519 = await rate(seconds, () => diffieHellman({ privateKey: a.privateKey, publicKey: peers[k++ % peers.length] }));

  figure('prs', 'evals_per_s', prs, { unit: 'eval/s', keyVersions: versions, note: 'in-process: parse + BlindEvaluate + JWE seal' });
  figure('prs', 'noble_ristretto255_mul_per_s', nobleRaw, { unit: 'mul/s' });
  figure('prs', 'x25519_native_mul_per_s', x25519, { unit: 'mul/s' });
  figure('prs', 'evals_per_s_ratio', prs / nobleRaw, { ceiling: 'noble ristretto255 Point.multiply (raw)', target: 0.6 });
  figure('prs', 'evals_per_s_ratio_native', prs / x25519, {
    ceiling: 'node:crypto X25519 (native curve25519 scalar mult)',
    target: 0.6,
    libsodiumRistretto255Available: libsodiumHasRistretto(),
  });
}
