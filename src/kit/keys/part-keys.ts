import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import type { Logger } from 'pino';
import { KIT_ERRORS, LdnError } from '../errors.ts';
import type { Store } from '../store/store.ts';
import { KeyConfigurationError, type KeyEncryptionKey } from './key-encryption-key.ts';

// A part's long-lived secrets (PRS master seed, NVI and transparency keys, signing keys) live in
// the part's own schema, sealed with AES-256-GCM under the key-encryption key, so every instance
// over one database uses the same keys and a restart finds them again. Created once (first writer
// wins across instances). A part refuses to start rather than create a key over data that was
// made under a key it no longer has.

/** A kept key that cannot be used (altered, or another key over the same data): the part does not start. */
export class KeyRefusal extends LdnError {
  constructor(diagnostics: string) {
    super('ERR_KIT_KEY_REFUSED', KIT_ERRORS.ERR_KIT_KEY_REFUSED, diagnostics);
  }
}

export interface SecretOptions {
  /** Makes a fresh secret (text), when none is kept yet and the store holds no data made under one. */
  make: () => Promise<string> | string;
  /** A value the operator supplies (setting or file): used as is, and must agree with a kept one. */
  supplied?: { value: string; from: string };
  /** A file an earlier version kept the key in (data directory): imported once into the store. */
  legacyFile?: string;
  /** True when the store holds data made under this key: then a missing key is a refusal. */
  hasData?: () => Promise<boolean>;
  /** Where an earlier version kept the key in clear in the store: imported once, then forgotten there. */
  legacyRow?: { read(): Promise<string | undefined>; forget(): Promise<void> };
}

export interface PartKeys {
  secret(name: string, options: SecretOptions): Promise<string>;
}

const TABLE = `CREATE TABLE IF NOT EXISTS ldn_part_keys (
  name text PRIMARY KEY,
  kek_id text NOT NULL,
  sealed text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
)`;

function seal(kek: KeyEncryptionKey, aad: string, plain: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', kek.key, iv);
  cipher.setAAD(Buffer.from(aad));
  const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
  return [iv, body, cipher.getAuthTag()].map((b) => b.toString('base64url')).join('.');
}

function open(kek: KeyEncryptionKey, aad: string, sealed: string): string {
  const [iv, body, tag] = sealed.split('.').map((p) => Buffer.from(p, 'base64url'));
  const decipher = createDecipheriv('aes-256-gcm', kek.key, iv);
  decipher.setAAD(Buffer.from(aad));
  decipher.setAuthTag(tag);
  return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
}

export interface PartKeysOptions {
  /** Undefined: no KEK configured; asking for a secret then refuses with what to set. */
  kek?: KeyEncryptionKey;
  /** The KEK being rotated away from: keys under it are re-sealed under `kek`. */
  previousKek?: KeyEncryptionKey;
  log?: Logger;
}

export function partKeys(store: Store, options: PartKeysOptions): PartKeys {
  let ready: Promise<unknown> | undefined;
  const aadOf = (name: string) => `${store.schema}:${name}`;
  const kept = async (name: string): Promise<string | undefined> => {
    const rows = await store.query<{ kek_id: string; sealed: string }>('SELECT kek_id, sealed FROM ldn_part_keys WHERE name = $1', [name]);
    if (rows.length === 0) return undefined;
    const { kek_id, sealed } = rows[0];
    const kek = options.kek;
    if (!kek) throw new KeyConfigurationError(noKek(store.schema));
    if (kek_id === kek.id) return openOrRefuse(kek, name, sealed);
    const previous = options.previousKek;
    if (previous && kek_id === previous.id) {
      const value = openOrRefuse(previous, name, sealed);
      await store.query('UPDATE ldn_part_keys SET kek_id = $2, sealed = $3 WHERE name = $1 AND kek_id = $4', [name, kek.id, seal(kek, aadOf(name), value), previous.id]);
      options.log?.warn({ event: 'keys.rewrapped', key: name, from: previous.id, to: kek.id }, `key ${name} re-sealed under the new key-encryption key`);
      return value;
    }
    throw new KeyRefusal(
      `key "${name}" in schema ${store.schema} is sealed under key-encryption key ${kek_id}, not the configured ${kek.id}; ` +
        'refusing to start (set KEY_ENCRYPTION_KEY to the key it was sealed under, or name that one in KEY_ENCRYPTION_KEY_PREVIOUS to rotate)',
    );
  };
  const openOrRefuse = (kek: KeyEncryptionKey, name: string, sealed: string): string => {
    try {
      return open(kek, aadOf(name), sealed);
    } catch {
      throw new KeyRefusal(`key "${name}" in schema ${store.schema} does not open under key-encryption key ${kek.id} (altered or copied from another schema); refusing to start`);
    }
  };
  // Two instances starting at once both run CREATE TABLE IF NOT EXISTS; PostgreSQL lets one win
  // and fails the other on its catalog (23505 on pg_type, or 42P07): the table then exists.
  const ensureTable = async () => {
    try {
      await store.query(TABLE);
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code !== '23505' && code !== '42P07') throw err;
    }
  };
  return {
    async secret(name, o) {
      ready ??= ensureTable().catch((err) => {
        ready = undefined;
        throw err;
      });
      await ready;
      const existing = await kept(name);
      if (o.supplied) {
        if (existing !== undefined && existing.trim() !== o.supplied.value.trim()) {
          throw new KeyRefusal(`${o.supplied.from} differs from the ${name} kept in schema ${store.schema}; refusing to start with a second key over the same data`);
        }
        return o.supplied.value;
      }
      if (existing !== undefined) return existing;
      const kek = options.kek;
      if (!kek) throw new KeyConfigurationError(noKek(store.schema));
      let value: string;
      const fromRow = await o.legacyRow?.read();
      if (fromRow !== undefined) {
        value = fromRow;
        options.log?.warn({ event: 'keys.imported', key: name }, `key ${name} moved from a clear row into the sealed key store`);
      } else if (o.legacyFile && existsSync(o.legacyFile)) {
        value = readFileSync(o.legacyFile, 'utf8');
        options.log?.warn({ event: 'keys.imported', key: name, file: o.legacyFile }, `key ${name} imported from ${o.legacyFile} into the store`);
      } else {
        if (await o.hasData?.()) {
          throw new KeyRefusal(
            `schema ${store.schema} holds data made under key "${name}", but that key is not kept here; refusing to create a new one ` +
              '(pseudonyms and signatures would silently stop matching). Supply the original key, or restore the store with its keys.',
          );
        }
        value = await o.make();
      }
      // First writer wins: a second instance starting at the same moment reads the winner's key.
      await store.query('INSERT INTO ldn_part_keys (name, kek_id, sealed) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING', [name, kek.id, seal(kek, aadOf(name), value)]);
      const winner = await kept(name);
      if (winner === undefined) throw new Error(`key ${name} was not kept`);
      await o.legacyRow?.forget(); // the clear copy goes once the sealed one is kept
      options.log?.info({ event: 'keys.created', key: name, kek: kek.id }, `key ${name} created and kept in the store`);
      return winner;
    },
  };
}

function noKek(schema: string): string {
  return (
    `the ${schema} part keeps its keys in its store sealed under a key-encryption key, and none is configured: ` +
    'set KEY_ENCRYPTION_KEY (32 bytes, hex or base64url) or KEY_ENCRYPTION_KEY_FILE'
  );
}
