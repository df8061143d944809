import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Migration, Store } from '../kit/store/store.ts';
import { appendCookie, cookieHeader, readCookies } from './ui/cookies.ts';
import { newToken } from './ui/web.ts';

// Server-side sessions behind an opaque cookie (HttpOnly, Secure, SameSite=Lax). Only a hash of
// the session id is stored, so a copy of the table cannot be replayed as cookies. Browsers never
// hold tokens or personal data: those stay in the session record.

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
    const data = (await this.store.get(hashId(id))) as Session<T> | undefined;
    return data ? { id, data } : undefined;
  }

  /** Starts a fresh session (a new id on every login: no session fixation). */
  async create(reply: FastifyReply, data: T): Promise<{ id: string; data: Session<T> }> {
    const id = newToken();
    const full = { ...data, csrf: newToken() } as Session<T>;
    await this.store.set(hashId(id), full, this.ttl);
    appendCookie(reply, cookieHeader(this.options.cookieName, id, { path: this.options.cookiePath, secure: this.options.secureCookies, maxAgeSeconds: this.ttl }));
    return { id, data: full };
  }

  async save(id: string, data: Session<T>): Promise<void> {
    await this.store.set(hashId(id), data, this.ttl);
  }

  async destroy(reply: FastifyReply, id: string | undefined): Promise<void> {
    if (id) await this.store.delete(hashId(id));
    appendCookie(reply, cookieHeader(this.options.cookieName, '', { path: this.options.cookiePath, secure: this.options.secureCookies, maxAgeSeconds: 0 }));
  }
}
