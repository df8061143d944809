import { createCipheriv, createDecipheriv, createHash, hkdfSync, randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Migration, Store } from '../kit/store/store.ts';
import { appendCookie, cookieHeader, readCookies } from './ui/cookies.ts';
import { newToken } from './ui/web.ts';

// Server-side sessions behind an opaque cookie (HttpOnly, Secure, SameSite=Lax). Only a hash of
// the session id is stored, so a copy of the table cannot be replayed as cookies. Browsers never
// hold tokens or personal data: those stay in the session record, sealed (AES-256-GCM) under a
// key derived from the session id itself (HKDF), which only the browser holds: a copy of the
// store, a backup or a log of its rows shows no BSN, ID token or verklaring, and a row cannot
// be opened without the cookie that belongs to it.

export interface SessionStore {
  get(idHash: string): Promise<unknown | undefined>;
  set(idHash: string, data: unknown, ttlSeconds: number): Promise<void>;
  delete(idHash: string): Promise<void>;
}

export class MemorySessionStore implements SessionStore {
  private readonly map = new Map<string, { data: string; expires: number }>();
  async get(idHash: string) {
    const hit = this.map.get(idHash);
    if (!hit) return undefined;
    if (hit.expires < Date.now()) {
      this.map.delete(idHash);
      return undefined;
    }
    return JSON.parse(hit.data) as unknown;
  }
  async set(idHash: string, data: unknown, ttlSeconds: number) {
    if (this.map.size > 10_000) for (const [k, v] of this.map) if (v.expires < Date.now()) this.map.delete(k);
    this.map.set(idHash, { data: JSON.stringify(data), expires: Date.now() + ttlSeconds * 1000 });
  }
  async delete(idHash: string) {
    this.map.delete(idHash);
  }
}

export const portalSessionMigrations: Migration[] = [
  {
    id: 'portal_001_sessions',
    sql: `CREATE TABLE portal_session (
  id_hash text PRIMARY KEY,
  data jsonb NOT NULL,
  expires_at timestamptz NOT NULL
);
CREATE INDEX portal_session_expires ON portal_session (expires_at);`,
  },
];

/** Sessions in the portal part's own schema, shared by every instance behind one address. */
export class StoreSessionStore implements SessionStore {
  constructor(private readonly store: Store) {}
  async get(idHash: string) {
    const rows = await this.store.query<{ data: unknown }>('SELECT data FROM portal_session WHERE id_hash = $1 AND expires_at > now()', [idHash]);
    if (!rows[0]) return undefined;
    return typeof rows[0].data === 'string' ? JSON.parse(rows[0].data) : rows[0].data;
  }
  async set(idHash: string, data: unknown, ttlSeconds: number) {
    const expires = new Date(Date.now() + ttlSeconds * 1000).toISOString();
    await this.store.query(
      `INSERT INTO portal_session (id_hash, data, expires_at) VALUES ($1, $2, $3)
       ON CONFLICT (id_hash) DO UPDATE SET data = EXCLUDED.data, expires_at = EXCLUDED.expires_at`,
      [idHash, JSON.stringify(data), expires],
    );
    if (Math.random() < 0.01) await this.store.query('DELETE FROM portal_session WHERE expires_at < now()');
  }
  async delete(idHash: string) {
    await this.store.query('DELETE FROM portal_session WHERE id_hash = $1', [idHash]);
  }
}

const hashId = (id: string) => createHash('sha256').update(id).digest('base64url');

const SEAL_INFO = 'ldn portal session v1';
const sealKey = (id: string, cookieName: string) => Buffer.from(hkdfSync('sha256', id, cookieName, SEAL_INFO, 32));

/** What the store holds for a session: its data sealed under the session id's key. */
interface Sealed {
  sealed: string;
}

export function sealSession(id: string, cookieName: string, data: unknown): Sealed {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', sealKey(id, cookieName), iv);
  const body = Buffer.concat([cipher.update(JSON.stringify(data), 'utf8'), cipher.final()]);
  return { sealed: Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url') };
}

/** The session data, or undefined when the row is not sealed under this id (tampered, or from another cookie). */
export function openSession(id: string, cookieName: string, stored: unknown): unknown {
  const sealed = (stored as Partial<Sealed> | undefined)?.sealed;
  if (typeof sealed !== 'string') return undefined;
  const raw = Buffer.from(sealed, 'base64url');
  if (raw.length < 12 + 16) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', sealKey(id, cookieName), raw.subarray(0, 12));
    decipher.setAuthTag(raw.subarray(raw.length - 16));
    const text = Buffer.concat([decipher.update(raw.subarray(12, raw.length - 16)), decipher.final()]).toString('utf8');
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

export interface SessionOptions {
  cookieName: string;
  cookiePath: string;
  ttlSeconds?: number;
  /** False only for plain-HTTP tests. */
  secureCookies?: boolean;
}

/** A session record always has a CSRF token; the rest is the portal's own. */
export type Session<T> = T & { csrf: string };

export class Sessions<T extends object> {
  private readonly ttl: number;
  constructor(
    private readonly store: SessionStore,
    private readonly options: SessionOptions,
  ) {
    this.ttl = options.ttlSeconds ?? 8 * 3600;
  }

  async load(request: FastifyRequest): Promise<{ id: string; data: Session<T> } | undefined> {
    const id = readCookies(request.headers.cookie)[this.options.cookieName];
    if (!id || id.length > 100) return undefined;
    const data = openSession(id, this.options.cookieName, await this.store.get(hashId(id))) as Session<T> | undefined;
    return data ? { id, data } : undefined;
  }

  /** Starts a fresh session (a new id on every login: no session fixation). */
  async create(reply: FastifyReply, data: T): Promise<{ id: string; data: Session<T> }> {
    const id = newToken();
    const full = { ...data, csrf: newToken() } as Session<T>;
    await this.store.set(hashId(id), sealSession(id, this.options.cookieName, full), this.ttl);
    appendCookie(reply, cookieHeader(this.options.cookieName, id, { path: this.options.cookiePath, secure: this.options.secureCookies, maxAgeSeconds: this.ttl }));
    return { id, data: full };
  }

  async save(id: string, data: Session<T>): Promise<void> {
    await this.store.set(hashId(id), sealSession(id, this.options.cookieName, data), this.ttl);
  }

  async destroy(reply: FastifyReply, id: string | undefined): Promise<void> {
    if (id) await this.store.delete(hashId(id));
    appendCookie(reply, cookieHeader(this.options.cookieName, '', { path: this.options.cookiePath, secure: this.options.secureCookies, maxAgeSeconds: 0 }));
  }
}
