import { createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import { PartClient } from '../kit/http/client.ts';
import type { PartContext } from '../kit/part.ts';
import { readCertificateIdentity } from '../kit/pki/certificates.ts';
import { PrsClient } from '../pseudonyms/client.ts';
import { importDecryptionKey, NVI_RECIPIENT_SCOPE, type SubjectKeys } from './subject-hash.ts';

// The NVI's two secrets: the RSA key PRS tokens are encrypted to, and the HMAC key of its index.
// Settings NVI_PRS_PRIVATE_JWK (JSON) and NVI_INDEX_KEY (hex) win; otherwise they are kept in the
// data directory; a memory-only sandbox makes fresh ones (its store is fresh too).

const JWE_KEY_FILE = 'nvi-prs-decryption-key.json';
const INDEX_KEY_FILE = 'nvi-index-key';

export interface NviKeys extends SubjectKeys {
  publicJwk: JWK;
  /** The private JWK itself, only to hand to the NVI's own crypto worker threads. */
  privateJwk: JWK;
  ura: string;
}

function persisted(ctx: PartContext, file: string, make: () => Promise<string>): Promise<string> | string {
  if (!ctx.dataDir) return make();
  const path = join(ctx.dataDir, file);
  if (existsSync(path)) return readFileSync(path, 'utf8');
  return make().then((value) => {
    mkdirSync(ctx.dataDir as string, { recursive: true });
    writeFileSync(path, value, { mode: 0o600 });
    return value;
  });
}

export async function loadNviKeys(ctx: PartContext): Promise<NviKeys> {
  const ura = readCertificateIdentity(ctx.tls.cert).ura;
  if (!ura) throw new Error('the NVI certificate carries no URA; PRS tokens are addressed to ura:<URA>');
  const jwkText =
    ctx.settings.NVI_PRS_PRIVATE_JWK ??
    (await persisted(ctx, JWE_KEY_FILE, async () => {
      const { privateKey } = await generateKeyPair('RSA-OAEP-256', { modulusLength: 2048, extractable: true });
      return JSON.stringify(await exportJWK(privateKey));
    }));
  const privateJwk = JSON.parse(jwkText) as JWK;
  const publicJwk = createPublicKey(createPrivateKey({ key: privateJwk as import('node:crypto').JsonWebKey, format: 'jwk' })).export({ format: 'jwk' }) as JWK;
  const bits = Buffer.from(publicJwk.n ?? '', 'base64url').length * 8;
  // RSA private operations grow ~cubically with the modulus: 2048 bits keeps every lookup's decrypt
  // at ~0.4 ms; 4096 costs ~6x more for no gain within this design's RSA-OAEP-256 + A256GCM.
  if (bits > 2048) ctx.log.warn({ event: 'nvi.rsa-key-size', bits }, `NVI JWE key has ${bits} bits; every lookup pays its RSA decrypt (2048 is enough and ~6x cheaper)`);
  // Imported once as a WebCrypto key: jose re-imports a node KeyObject on every decrypt.
  const decryptionKey = await importDecryptionKey(privateJwk);
  const indexHex = ctx.settings.NVI_INDEX_KEY ?? (await persisted(ctx, INDEX_KEY_FILE, async () => randomBytes(32).toString('hex')));
  if (!/^([0-9a-f]{2}){32,}$/i.test(indexHex.trim())) throw new Error('NVI_INDEX_KEY must be at least 32 bytes of hex');
  if (!ctx.settings.NVI_INDEX_KEY && !ctx.dataDir) ctx.log.warn({ event: 'nvi.ephemeral-keys' }, 'NVI keys are ephemeral (no settings, no data directory)');
  return {
    ura,
    audience: `ura:${ura}`,
    scope: NVI_RECIPIENT_SCOPE,
    decryptionKey,
    indexKey: new Uint8Array(Buffer.from(indexHex.trim(), 'hex')),
    privateJwk,
    publicJwk: { kty: 'RSA', n: publicJwk.n, e: publicJwk.e, alg: 'RSA-OAEP-256', use: 'enc' },
  };
}

/**
 * Registers the NVI's public JWE key at the PRS: once during start-up (so the sandbox is ready when
 * it reports ready), then retried in the background until it succeeds. Returns a stop function.
 */
export async function announceToPrs(ctx: PartContext, keys: NviKeys): Promise<() => Promise<void>> {
  if (!ctx.network.has('prs')) {
    ctx.log.warn({ event: 'nvi.no-prs' }, 'no PRS in the network: holders cannot pseudonymise for this NVI');
    return async () => {};
  }
  const client = new PartClient({ tls: ctx.tls, maxRetries: 1, defaultDeadlineMs: 5_000 });
  const prs = new PrsClient(client, ctx.network.url('prs'));
  let timer: NodeJS.Timeout | undefined;
  let delay = 1_000;
  const attempt = async (): Promise<void> => {
    try {
      await prs.registerRecipientKey(keys.ura, keys.scope, keys.publicJwk);
      ctx.log.info({ event: 'nvi.prs-key-registered', recipient: keys.audience }, 'JWE key registered at the PRS');
    } catch (err) {
      ctx.log.warn({ err, retryInMs: delay }, 'registering the JWE key at the PRS failed; retrying');
      timer = setTimeout(() => void attempt(), delay);
      timer.unref();
      delay = Math.min(delay * 2, 60_000);
    }
  };
  await attempt();
  return async () => {
    if (timer) clearTimeout(timer);
    await client.close();
  };
}
