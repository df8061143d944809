import { randomUUID } from 'node:crypto';
import { generateOutboxKey } from '../audit/contract.ts';
import type { PartKeys } from '../kit/keys/part-keys.ts';
import type { Store } from '../kit/store/store.ts';

// The node's audit outbox key (AES-256), which seals patients' BSNs in outbox rows until their PRS
// token is fetched at delivery. Queued rows cannot be delivered without it, so every instance over
// one database must use the same key: it is created once in the node's store (auth_signing_keys,
// purpose audit-outbox; the same 'keys in stores' STUB as the node's access-token and checkpoint
// keys; in production it belongs in an HSM or a mounted secret). Setting audit_outbox_key
// (32 bytes, base64url) overrides it. Never logged, never quoted.

const KEY_PURPOSE = 'audit-outbox';

/** The configured key (setting audit_outbox_key), if any; an error message never repeats the value. */
export function outboxKeySetting(raw: string | undefined): Uint8Array | undefined {
  if (raw === undefined) return undefined;
  const key = /^[A-Za-z0-9_-]+$/.test(raw) ? Buffer.from(raw, 'base64url') : Buffer.alloc(0);
  if (key.length !== 32) throw new Error('audit_outbox_key must be 32 bytes in base64url (value not shown)');
  return key;
}

/** The outbox key kept sealed in the node's key store (a clear row an earlier version left is moved there). */
export async function loadSealedOutboxKey(store: Store, keys: PartKeys): Promise<Uint8Array> {
  const text = await keys.secret('audit-outbox-key', {
    legacyRow: {
      read: async () => {
        const row = (await store.query<{ private_jwk: { k?: string } | string }>('SELECT private_jwk FROM auth_signing_keys WHERE purpose = $1', [KEY_PURPOSE]))[0];
        if (!row) return undefined;
        const jwk = typeof row.private_jwk === 'string' ? (JSON.parse(row.private_jwk) as { k?: string }) : row.private_jwk;
        return jwk.k;
      },
      forget: async () => void (await store.query('DELETE FROM auth_signing_keys WHERE purpose = $1', [KEY_PURPOSE])),
    },
    // Outbox rows sealed under a lost key could never be delivered: refuse instead.
    hasData: async () => (await store.query('SELECT 1 FROM audit_outbox WHERE sealed_patient IS NOT NULL LIMIT 1')).length > 0,
    make: () => Buffer.from(generateOutboxKey()).toString('base64url'),
  });
  const key = Buffer.from(text, 'base64url');
  if (key.length !== 32) throw new Error('the stored audit outbox key is not a 32-byte key');
  return key;
}

export async function loadOrCreateOutboxKey(store: Store): Promise<Uint8Array> {
  const read = async () =>
    (await store.query<{ private_jwk: { k?: string } | string }>('SELECT private_jwk FROM auth_signing_keys WHERE purpose = $1', [KEY_PURPOSE]))[0]
      ?.private_jwk;
  let stored = await read();
  if (stored === undefined) {
    const jwk = { kty: 'oct', alg: 'A256GCM', k: Buffer.from(generateOutboxKey()).toString('base64url') };
    // First writer wins when several instances start at once.
    await store.query('INSERT INTO auth_signing_keys (purpose, kid, private_jwk) VALUES ($1, $2, $3) ON CONFLICT (purpose) DO NOTHING', [
      KEY_PURPOSE,
      randomUUID(),
      JSON.stringify(jwk),
    ]);
    stored = await read();
  }
  const jwk = typeof stored === 'string' ? (JSON.parse(stored) as { k?: string }) : stored;
  const key = Buffer.from(jwk?.k ?? '', 'base64url');
  if (key.length !== 32) throw new Error('the stored audit outbox key is not a 32-byte key');
  return key;
}
