import { readSettings, type SettingDeclaration } from './part-settings.ts';

// Settings more than one part reads (declared once here, listed by each part that reads them).

export const TOKENS_SETTING: SettingDeclaration = {
  name: 'tokens',
  type: { oneOf: ['required', 'off'] },
  default: 'required',
  doc: 'access tokens from the trust part on protected calls; "off" (mutual TLS only) is for benchmarks and tests',
};

/** The network operator's URA when none is configured: written here once (the sandbox cast's operator has it too). */
export const DEFAULT_OPERATOR_URA = '90000001';

export const OPERATOR_URA_SETTING: SettingDeclaration = {
  name: 'operator_ura',
  type: 'ura',
  default: DEFAULT_OPERATOR_URA,
  doc: 'URA of the network operator (its certificate may administer; it holds citizen-access for the citizen portal)',
};

/** The operator's URA from a part's settings (`operator_ura`, checked), else the default. */
export function operatorUraOf(settings: Record<string, string | undefined>, part = 'operator'): string {
  return readSettings(part, [OPERATOR_URA_SETTING], settings).string(OPERATOR_URA_SETTING.name);
}

/** The JWE key and the keyed-hash key of a PRS recipient (src/pseudonyms/recipient-secrets.ts). */
export function prsRecipientSettings(prefix: string, hmacName: string, stores: string): SettingDeclaration[] {
  return [
    {
      name: `${prefix}_prs_private_jwk`,
      type: 'json',
      secret: true,
      doc: `private JWK PRS tokens are encrypted to: X25519 (ECDH-ES+A256KW, created when absent) or RSA (RSA-OAEP-256); the same for every instance`,
    },
    {
      name: `${prefix}_${hmacName}`,
      type: 'hex',
      secret: true,
      doc: `HMAC key (≥ 32 bytes hex) that turns a pseudonym into what the ${stores} stores; the same for every instance, never changed without re-keying`,
    },
  ];
}

/** Every part that keeps keys in its store reads these (src/kit/keys/key-encryption-key.ts). */
export const KEY_ENCRYPTION_KEY_SETTINGS: SettingDeclaration[] = [
  { name: 'key_encryption_key', type: 'string', secret: true, doc: '32 bytes (hex or base64url) sealing the keys this part keeps in its store; required with DATABASE_URL or LDN_DATA_DIR' },
  { name: 'key_encryption_key_file', type: 'file', secret: true, doc: 'the same from a file (mode 0600), instead of key_encryption_key' },
  { name: 'key_encryption_key_previous', type: 'string', secret: true, doc: 'the KEK being replaced, while rotating (keys sealed under it are opened and sealed again)' },
  { name: 'key_encryption_key_previous_file', type: 'file', secret: true, doc: 'the same from a file' },
];

/** Parts holding the trust part's signed agreements (src/sandbox/compose.ts). */
export const AGREEMENTS_REFRESH_SETTING: SettingDeclaration = {
  name: 'agreements_refresh_ms',
  type: 'integer',
  min: 100,
  default: '5000',
  doc: "how often the trust part's signed agreements are fetched again (an operator's change reaches this part within it)",
};

/** Read by the kit for every part (src/kit/http/service.ts): load tests raise every rate limit at once. */
export const RATE_LIMIT_SCALE_SETTING: SettingDeclaration = {
  name: 'rate_limit_scale',
  type: 'integer',
  min: 1,
  default: '1',
  doc: 'multiplies every per-caller rate limit of this part (load tests raise it)',
};

/** What the kit reads for every part, besides the part's own declarations. */
export const KIT_SETTINGS: SettingDeclaration[] = [...KEY_ENCRYPTION_KEY_SETTINGS, RATE_LIMIT_SCALE_SETTING];

/** Parts that check a professional's Dezi-like verklaring (src/trust/verklaring.ts). */
export const IDENTITY_ISSUER_SETTINGS: SettingDeclaration[] = [
  { name: 'identity_issuer', type: 'url', doc: "issuer of the Dezi-like verklaringen this part accepts (default: the network's identity part)" },
  { name: 'identity_jwks', type: 'url', doc: 'key set of that issuer (default <identity_issuer>/dezi/jwks.json)' },
];
