import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { KIT_ERRORS, LdnError } from '../errors.ts';

// The key-encryption key (KEK) a part's stored keys are sealed under. It is held outside the
// store: setting KEY_ENCRYPTION_KEY (32 bytes, base64url or hex) or KEY_ENCRYPTION_KEY_FILE (a file
// holding that). KEY_ENCRYPTION_KEY_PREVIOUS(_FILE) names the KEK being rotated away from: keys
// sealed under it are opened and re-sealed under the current one at start.

export interface KeyEncryptionKey {
  key: Buffer;
  /** Short non-secret id (first 8 bytes of its SHA-256), stored next to each sealed key. */
  id: string;
}

/** No key-encryption key where one is needed, or a malformed one: the part does not start. */
export class KeyConfigurationError extends LdnError {
  constructor(diagnostics: string) {
    super('ERR_KIT_KEK_INVALID', KIT_ERRORS.ERR_KIT_KEK_INVALID, diagnostics);
  }
}

export function parseKek(text: string, from: string): KeyEncryptionKey {
  const t = text.trim();
  const key = /^[0-9a-f]{64}$/i.test(t) ? Buffer.from(t, 'hex') : /^[A-Za-z0-9_-]{43}=?$/.test(t) ? Buffer.from(t.replace(/=$/, ''), 'base64url') : null;
  if (key?.length !== 32) throw new KeyConfigurationError(`${from} must be 32 bytes, as 64 hex digits or 43 base64url characters`);
  return { key, id: createHash('sha256').update(key).digest('hex').slice(0, 16) };
}

function fromSettings(settings: Record<string, string | undefined>, name: string): KeyEncryptionKey | undefined {
  const inline = settings[name];
  if (inline) return parseKek(inline, name);
  const file = settings[`${name}_file`];
  if (!file) return undefined;
  if (!existsSync(file)) throw new KeyConfigurationError(`${name.toUpperCase()}_FILE: file not found: ${file}`);
  return parseKek(readFileSync(file, 'utf8'), `${name.toUpperCase()}_FILE ${file}`);
}

/** The current and (while rotating) previous KEK from a part's settings; undefined when none is set. */
export function kekFromSettings(settings: Record<string, string | undefined>): { current?: KeyEncryptionKey; previous?: KeyEncryptionKey } {
  return { current: fromSettings(settings, 'key_encryption_key'), previous: fromSettings(settings, 'key_encryption_key_previous') };
}

/** A fresh random KEK (memory-only stores: the keys go with the store). */
export function ephemeralKek(): KeyEncryptionKey {
  return parseKek(randomBytes(32).toString('hex'), 'ephemeral');
}

/**
 * The sandbox's KEK file: read, or created once (mode 0600). The sandbox keeps it beside its data
 * so a restarted sandbox opens the keys its stores hold; production supplies its own.
 */
export function kekFile(path: string): KeyEncryptionKey {
  if (existsSync(path)) return parseKek(readFileSync(path, 'utf8'), path);
  mkdirSync(dirname(path), { recursive: true });
  const kek = randomBytes(32).toString('hex');
  writeFileSync(path, kek, { mode: 0o600, flag: 'wx' });
  return parseKek(kek, path);
}
