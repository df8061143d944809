import { createPrivateKey, createPublicKey, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CryptoKey, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import { PartClient } from '../../kit/http/client.ts';
import type { PartContext } from '../../kit/part.ts';
import { readCertificateIdentity } from '../../kit/pki/certificates.ts';
import { PrsClient } from '../../pseudonyms/client.ts';

// The transparency part as a PRS recipient, like the NVI: an RSA key PRS tokens are encrypted to
// (registered at the PRS under scope "transparency"), and an HMAC key that turns the unblinded
// element into the stable pseudonym it stores. Settings TRANSPARENCY_PRS_PRIVATE_JWK (JSON) and
// TRANSPARENCY_PSEUDONYM_KEY (hex) win; else both are kept in the data directory; a memory-only
// sandbox makes fresh ones (its store is fresh too).

export const TRANSPARENCY_RECIPIENT_SCOPE = 'transparency';

const JWE_KEY_FILE = 'transparency-prs-decryption-key.json';
const PSEUDONYM_KEY_FILE = 'transparency-pseudonym-key';

export interface TransparencyRecipientKeys {
  ura: string;
  /** "ura:<URA>", the audience PRS tokens must carry. */
  audience: string;
  scope: string;
  /** RSA-OAEP-256 private key, imported once (jose re-imports a KeyObject per call). */
  decryptionKey: CryptoKey;
  /** HMAC key for the stable pseudonym. */
  pseudonymKey: Uint8Array;
  publicJwk: JWK;
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

export async function loadTransparencyRecipientKeys(ctx: PartContext): Promise<TransparencyRecipientKeys> {
  const ura = readCertificateIdentity(ctx.tls.cert).ura;
  if (!ura) throw new Error('the transparency certificate carries no URA; PRS tokens are addressed to ura:<URA>');
  const jwkText =
    ctx.settings.TRANSPARENCY_PRS_PRIVATE_JWK ??
    (await persisted(ctx, JWE_KEY_FILE, async () => {
      const { privateKey } = await generateKeyPair('RSA-OAEP-256', { modulusLength: 2048, extractable: true });
      return JSON.stringify(await exportJWK(privateKey));
    }));
  const privateJwk = JSON.parse(jwkText) as JWK;
  const pub = createPublicKey(createPrivateKey({ key: privateJwk as import('node:crypto').JsonWebKey, format: 'jwk' })).export({ format: 'jwk' }) as JWK;
  const decryptionKey = (await importJWK({ ...privateJwk, alg: 'RSA-OAEP-256' }, 'RSA-OAEP-256', { extractable: false })) as CryptoKey;
  const keyHex = (ctx.settings.TRANSPARENCY_PSEUDONYM_KEY ?? (await persisted(ctx, PSEUDONYM_KEY_FILE, async () => randomBytes(32).toString('hex')))).trim();
  if (!/^([0-9a-f]{2}){32,}$/i.test(keyHex)) throw new Error('TRANSPARENCY_PSEUDONYM_KEY must be at least 32 bytes of hex');
  if (!ctx.settings.TRANSPARENCY_PSEUDONYM_KEY && !ctx.dataDir) {
    ctx.log.warn({ event: 'transparency.ephemeral-keys' }, 'transparency pseudonym keys are ephemeral (no settings, no data directory)');
  }
  return {
    ura,
    audience: `ura:${ura}`,
    scope: TRANSPARENCY_RECIPIENT_SCOPE,
    decryptionKey,
    pseudonymKey: new Uint8Array(Buffer.from(keyHex, 'hex')),
    publicJwk: { kty: 'RSA', n: pub.n, e: pub.e, alg: 'RSA-OAEP-256', use: 'enc' },
  };
}

/**
 * Registers the public JWE key at the PRS: once during start-up, then retried in the background
 * (doubling, up to a minute) until it succeeds. Returns a stop function.
 */
export async function announceToPrs(ctx: PartContext, keys: TransparencyRecipientKeys): Promise<() => Promise<void>> {
  if (!ctx.network.has('prs')) {
    ctx.log.warn({ event: 'transparency.no-prs' }, 'no PRS in the network: nodes cannot pseudonymise for the transparency log');
    return async () => {};
  }
  const client = new PartClient({ tls: ctx.tls, maxRetries: 1, defaultDeadlineMs: 5_000 });
  const prs = new PrsClient(client, ctx.network.url('prs'));
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let delay = 1_000;
  const attempt = async (): Promise<void> => {
    try {
      await prs.registerRecipientKey(keys.ura, keys.scope, keys.publicJwk);
      ctx.log.info({ event: 'transparency.prs-key-registered', recipient: keys.audience, scope: keys.scope }, 'JWE key registered at the PRS');
    } catch (err) {
      if (stopped) return;
      ctx.log.warn({ err, retryInMs: delay }, 'registering the JWE key at the PRS failed; retrying');
      timer = setTimeout(() => void attempt(), delay);
      timer.unref();
      delay = Math.min(delay * 2, 60_000);
    }
  };
  await attempt();
  return async () => {
    stopped = true;
    if (timer) clearTimeout(timer);
    await client.close();
  };
}
