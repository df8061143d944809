import { randomUUID } from 'node:crypto';
import type { Queryable, Store } from '../kit/store/store.ts';

// Store-backed NVI domain logic as plain functions. Registration is idempotent: registering an
// existing (subject, custodian, category) returns the existing referral (created=false) instead of
// failing, so a holder can re-send its registrations at any time. After a PRS key rotation a
// registration carries hashes under several key versions; the row is kept under the current one
// and rows under older versions of the same fact are replaced.

export interface SubjectHash {
  version: number;
  /** HMAC-SHA256 of the unblinded element. */
  hash: Buffer;
}

export interface Referral {
  id: string;
  custodian: string;
  category: string;
  sourceClient: string;
  created: string;
}

export interface RegisterInput {
  /** Current version first (as recipientElements returns them). */
  subject: SubjectHash[];
  custodian: string;
  category: string;
  sourceClient: string;
}

/** A referrals row as the queries below select it (REFERRAL_COLUMNS). */
export interface ReferralRow {
  [k: string]: unknown;
  id: string;
  custodian: string;
  category: string;
  source_client: string;
  created: string | Date;
}

export const REFERRAL_COLUMNS = 'id, custodian, category, source_client, created';

export function toReferral(r: ReferralRow): Referral {
  return {
    id: r.id,
    custodian: r.custodian,
    category: r.category,
    sourceClient: r.source_client,
    created: r.created instanceof Date ? r.created.toISOString() : new Date(r.created).toISOString(),
  };
}

function current(subject: SubjectHash[]): SubjectHash {
  if (subject.length === 0) throw new Error('no subject hash');
  return subject.reduce((a, b) => (b.version > a.version ? b : a));
}

/** Placeholders $from..$from+n-1 and the hashes as parameters. */
function hashList(subject: SubjectHash[], from: number): { sql: string; params: Buffer[] } {
  return { sql: subject.map((_, i) => `$${from + i}`).join(', '), params: subject.map((s) => s.hash) };
}

/** Runs fn in a transaction when given a Store; inside a caller's transaction when given its Queryable. */
function atomically<T>(db: Queryable | Store, fn: (tx: Queryable) => Promise<T>): Promise<T> {
  return 'transaction' in db ? db.transaction(fn) : fn(db);
}

export async function registerReferral(db: Queryable | Store, input: RegisterInput): Promise<{ referral: Referral; created: boolean }> {
  const now = current(input.subject);
  return atomically(db, async (tx) => {
    const older = input.subject.filter((s) => s !== now);
    if (older.length > 0) {
      const list = hashList(older, 3);
      await tx.query(`DELETE FROM referrals WHERE custodian = $1 AND category = $2 AND subject_hash IN (${list.sql})`, [
        input.custodian, input.category, ...list.params,
      ]);
    }
    const inserted = await tx.query<ReferralRow>(
      `INSERT INTO referrals (subject_hash, custodian, category, id, key_version, source_client)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (subject_hash, custodian, category) DO NOTHING
       RETURNING ${REFERRAL_COLUMNS}`,
      [now.hash, input.custodian, input.category, randomUUID(), now.version, input.sourceClient],
    );
    if (inserted.length > 0) return { referral: toReferral(inserted[0]), created: true };
    const existing = await tx.query<ReferralRow>(`SELECT ${REFERRAL_COLUMNS} FROM referrals WHERE subject_hash = $1 AND custodian = $2 AND category = $3`, [
      now.hash, input.custodian, input.category,
    ]);
    return { referral: toReferral(existing[0]), created: false };
  });
}

/** The categories a subject lookup searches: the allowed ones, or the one asked for if it is allowed. */
export function categoriesToSearch(allowedCategories: readonly string[], category?: string): string[] {
  return category === undefined ? [...allowedCategories] : allowedCategories.includes(category) ? [category] : [];
}

/** Referrals for a subject (any active key version), limited to the categories the caller may see. */
export async function findBySubject(db: Queryable, subject: SubjectHash[], allowedCategories: readonly string[], category?: string): Promise<Referral[]> {
  const categories = categoriesToSearch(allowedCategories, category);
  if (categories.length === 0 || subject.length === 0) return [];
  const list = hashList(subject, 2);
  // Every lookup runs this: prepared per connection (one statement per number of key versions).
  const rows = await db.query<ReferralRow>(
    `SELECT ${REFERRAL_COLUMNS} FROM referrals WHERE subject_hash IN (${list.sql}) AND category = ANY($1::text[]) ORDER BY custodian, category`,
    [categories, ...list.params],
    { prepare: `nvi_find_by_subject_${subject.length}` },
  );
  return rows.map(toReferral);
}

/** A custodian's own registrations made by one client. */
export async function findBySource(db: Queryable, custodian: string, sourceClient: string, page: { count: number; offset: number }): Promise<Referral[]> {
  const rows = await db.query<ReferralRow>(
    `SELECT ${REFERRAL_COLUMNS} FROM referrals WHERE custodian = $1 AND source_client = $2 ORDER BY created, id LIMIT $3 OFFSET $4`,
    [custodian, sourceClient, page.count, page.offset],
  );
  return rows.map(toReferral);
}

export async function readReferral(db: Queryable, id: string): Promise<Referral | null> {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(id)) return null;
  const rows = await db.query<ReferralRow>(`SELECT ${REFERRAL_COLUMNS} FROM referrals WHERE id = $1`, [id]);
  return rows.length > 0 ? toReferral(rows[0]) : null;
}

export type WithdrawResult = 'deleted' | 'not-found' | 'not-custodian';

/** Deletes one referral by id, only for its own custodian. */
export async function withdrawById(db: Queryable, id: string, custodian: string): Promise<WithdrawResult> {
  const found = await readReferral(db, id);
  if (!found) return 'not-found';
  if (found.custodian !== custodian) return 'not-custodian';
  await db.query('DELETE FROM referrals WHERE id = $1 AND custodian = $2', [id, custodian]);
  return 'deleted';
}

/** Conditional delete: the custodian's referrals for a subject (optionally one category). Returns the number removed. */
export async function withdrawBySubject(db: Queryable, subject: SubjectHash[], custodian: string, category?: string): Promise<number> {
  if (subject.length === 0) return 0;
  const list = hashList(subject, 3);
  const rows = await db.query(
    `DELETE FROM referrals WHERE custodian = $1 AND ($2::text IS NULL OR category = $2) AND subject_hash IN (${list.sql}) RETURNING id`,
    [custodian, category ?? null, ...list.params],
  );
  return rows.length;
}
