import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import type { Queryable } from '../kit/store/store.ts';

// Passwords for the login pages outside the sandbox (the sandbox picks from the cast).
// scrypt from node:crypto; the stored form is "scrypt$N$r$p$salt$hash".

const scryptAsync = promisify(scrypt) as (password: string, salt: Buffer, keylen: number, options: { N: number; r: number; p: number }) => Promise<Buffer>;
const PARAMS = { N: 16384, r: 8, p: 1 };
const KEY_LENGTH = 32;

export const CREDENTIALS_MIGRATION_SQL = `
CREATE TABLE login_credentials (
  account text PRIMARY KEY,
  password_hash text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);`;

export async function setPassword(db: Queryable, account: string, password: string): Promise<void> {
  if (password.length < 12) throw new Error('a password needs at least 12 characters');
  const salt = randomBytes(16);
  const hash = await scryptAsync(password, salt, KEY_LENGTH, PARAMS);
  const stored = ['scrypt', PARAMS.N, PARAMS.r, PARAMS.p, salt.toString('base64url'), hash.toString('base64url')].join('$');
  await db.query(
    'INSERT INTO login_credentials (account, password_hash) VALUES ($1, $2) ON CONFLICT (account) DO UPDATE SET password_hash = EXCLUDED.password_hash, updated_at = now()',
    [account, stored],
  );
}

export async function checkPassword(db: Queryable, account: string, password: string): Promise<boolean> {
  const rows = await db.query<{ password_hash: string }>('SELECT password_hash FROM login_credentials WHERE account = $1', [account]);
  // Unknown accounts still cost one scrypt, so timing does not tell which accounts exist.
  const [, n, r, p, salt, hash] = (rows[0]?.password_hash ?? `scrypt$${PARAMS.N}$${PARAMS.r}$${PARAMS.p}$${'A'.repeat(22)}$${'A'.repeat(43)}`).split('$');
  const expected = Buffer.from(hash, 'base64url');
  const actual = await scryptAsync(password, Buffer.from(salt, 'base64url'), expected.length, { N: Number(n), r: Number(r), p: Number(p) });
  return rows.length > 0 && timingSafeEqual(actual, expected);
}
