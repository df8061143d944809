import { type KeyObject, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { CryptoKey, JWK } from 'jose';
import { PartClient } from '../kit/http/client.ts';
import type { PartContext } from '../kit/part.ts';
import { readCertificateIdentity } from '../kit/pki/certificates.ts';
import { PrsClient } from './client.ts';
import { generateRecipientJwk, importDecryptionKey, publicRecipientJwk, recipientKeyType } from './recipient-jwk.ts';

// What every PRS recipient (the NVI, the transparency log) keeps: the JWE key PRS tokens are
// encrypted to (X25519 when created here; an RSA key from settings or an older file still works), and the HMAC key that turns an unblinded element into what it stores. Settings
// <PREFIX>_PRS_PRIVATE_JWK (JSON) and <PREFIX>_<HMAC> (hex) win; otherwise both are kept in the
// part's data directory; a memory-only sandbox makes fresh ones (its store is fresh too).

export interface RecipientKeys {
  ura: string;
  /** "ura:<URA>", the audience PRS tokens must carry. */
  audience: string;
  scope: string;
  /** X25519 KeyObject (ECDH-ES+A256KW), or an RSA-OAEP-256 CryptoKey imported once (jose re-imports a KeyObject on every decrypt). */
  decryptionKey: CryptoKey | KeyObject;
  /** The private JWK itself, only for the recipient's own crypto worker threads. */
  privateJwk: JWK;
  publicJwk: JWK;
  /** HMAC key for what the recipient stores. */
  hmacKey: Uint8Array;
}

export interface RecipientKeyOptions {
  /** Settings and file prefix and log event prefix, e.g. "NVI" / "TRANSPARENCY". */
  prefix: string;
  /** Name of the HMAC key setting after the prefix, e.g. "INDEX_KEY". */
  hmacSetting: string;
  scope: string;
  /** True when the store holds values made under the HMAC key: a lost key is then a refusal. */
  hasData?: () => Promise<boolean>;
}

/** A recipient secret kept sealed in the part's store (imported once from an older data-directory file). */
function kept(ctx: PartContext, name: string, hasData: (() => Promise<boolean>) | undefined, make: () => Promise<string> | string): Promise<string> {
  return ctx.keys.secret(name, { legacyFile: ctx.dataDir ? join(ctx.dataDir, name) : undefined, hasData, make });
}

export { importDecryptionKey } from './recipient-jwk.ts';

export async function loadRecipientKeys(ctx: PartContext, o: RecipientKeyOptions): Promise<RecipientKeys> {
  const name = o.prefix.toLowerCase();
  const ura = readCertificateIdentity(ctx.tls.cert).ura;
  if (!ura) throw new Error(`the ${name} certificate carries no URA; PRS tokens are addressed to ura:<URA>`);
  const jwkSetting = `${o.prefix}_PRS_PRIVATE_JWK`;
  const hmacSetting = `${o.prefix}_${o.hmacSetting}`;
  const jwkText =
    ctx.settings[jwkSetting] ??
    (await kept(ctx, `${name}-prs-decryption-key.json`, undefined, async () => JSON.stringify(generateRecipientJwk())));
  const privateJwk = JSON.parse(jwkText) as JWK;
  const publicJwk = publicRecipientJwk(privateJwk);
  const bits = Buffer.from(publicJwk.n ?? '', 'base64url').length * 8;
  if (recipientKeyType(privateJwk) === 'RSA')
    ctx.log.warn({ event: `${name}.rsa-key` }, `${o.prefix} JWE key is RSA: each PRS token costs an RSA decryption; an X25519 key (the default) costs ~5x less CPU to open`);
  // RSA private operations grow ~cubically with the modulus: 2048 bits keeps each decrypt at
  // ~0.4 ms; 4096 costs ~6x more for no gain within this design's RSA-OAEP-256 + A256GCM.
  if (bits > 2048) ctx.log.warn({ event: `${name}.rsa-key-size`, bits }, `${o.prefix} JWE key has ${bits} bits; 2048 is enough and ~6x cheaper per decrypt`);
  const suppliedHmac = ctx.settings[hmacSetting];
  if (suppliedHmac !== undefined && !/^([0-9a-f]{2}){32,}$/i.test(suppliedHmac.trim())) throw new Error(`${hmacSetting} must be at least 32 bytes of hex`);
  const hmacHex = (
    await ctx.keys.secret(`${name}-${o.hmacSetting.toLowerCase().replace(/_/g, '-')}`, {
      supplied: suppliedHmac ? { value: suppliedHmac, from: hmacSetting } : undefined,
      legacyFile: ctx.dataDir ? join(ctx.dataDir, `${name}-${o.hmacSetting.toLowerCase().replace(/_/g, '-')}`) : undefined,
      hasData: o.hasData,
      make: () => randomBytes(32).toString('hex'),
    })
  ).trim();
  return {
    ura,
    audience: `ura:${ura}`,
    scope: o.scope,
    decryptionKey: await importDecryptionKey(privateJwk),
    privateJwk,
    publicJwk,
    hmacKey: new Uint8Array(Buffer.from(hmacHex, 'hex')),
  };
}

/**
 * Registers the recipient's public JWE key at the PRS: once during start-up (so a sandbox is ready
 * when it says so), then retried in the background (doubling, up to a minute) until it succeeds.
 * Returns a stop function.
 */
export async function announceToPrs(ctx: PartContext, keys: RecipientKeys): Promise<() => Promise<void>> {
  if (!ctx.network.has('prs')) {
    ctx.log.warn({ event: 'recipient.no-prs', scope: keys.scope }, `no PRS in the network: nobody can pseudonymise for ${keys.scope}`);
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
      ctx.log.info({ event: 'recipient.prs-key-registered', recipient: keys.audience, scope: keys.scope }, 'JWE key registered at the PRS');
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
