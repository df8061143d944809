import type { Queryable } from '../kit/store/store.ts';
import { categoriesToSearch, findBySubject, type Referral, REFERRAL_COLUMNS, type ReferralRow, type SubjectHash, toReferral } from './referrals.ts';

// Lookups by subject that arrive in the same event-loop turn (concurrent callers, or the answers
// of one crypto-worker batch) go to the database as one query instead of one each: every query is
// a round trip with a system call on both sides and a statement execution in PostgreSQL, which on
// the NVI's hot path cost as much as the index scan itself. Each lookup then keeps only the rows of
// its own subject hashes and its own categories, in the order the single-lookup query gives
// (custodian, category). A lone lookup runs the single-lookup query unchanged.

/** Lookups per query at most (a turn with more is split). */
const MAX_BATCH = 64;

interface Job {
  subject: SubjectHash[];
  categories: readonly string[];
  resolve(found: Referral[]): void;
  reject(err: unknown): void;
}

interface BatchRow extends ReferralRow {
  subject_hash: Buffer | Uint8Array;
}

const hashKey = (h: Uint8Array): string => Buffer.from(h.buffer, h.byteOffset, h.byteLength).toString('latin1');

export type SubjectLookup = (subject: SubjectHash[], allowedCategories: readonly string[], category?: string) => Promise<Referral[]>;

/** findBySubject with the same answers, batched per event-loop turn. */
export function batchedSubjectLookup(db: Queryable): SubjectLookup {
  let queued: Job[] = [];
  let scheduled = false;

  const runBatch = async (jobs: Job[]): Promise<void> => {
    if (jobs.length === 1) {
      const [job] = jobs;
      return findBySubject(db, job.subject, job.categories).then(job.resolve, job.reject);
    }
    const hashes = new Map<string, Buffer>();
    for (const job of jobs) for (const { hash } of job.subject) hashes.set(hashKey(hash), hash);
    const categories = [...new Set(jobs.flatMap((j) => j.categories))];
    // Hashes travel as hex text (the same on PostgreSQL and PGlite); the cast keeps the primary-key scan.
    const rows = await db.query<BatchRow>(
      `SELECT subject_hash, ${REFERRAL_COLUMNS} FROM referrals WHERE subject_hash = ANY($1::text[]::bytea[]) AND category = ANY($2::text[]) ORDER BY custodian, category`,
      [[...hashes.values()].map((h) => `\\x${h.toString('hex')}`), categories],
      { prepare: 'nvi_find_by_subjects' },
    );
    // Rows per subject hash, each with its place in the query's order.
    const bySubject = new Map<string, Array<{ at: number; row: BatchRow }>>();
    rows.forEach((row, at) => {
      const key = hashKey(row.subject_hash);
      const list = bySubject.get(key);
      if (list) list.push({ at, row });
      else bySubject.set(key, [{ at, row }]);
    });
    for (const job of jobs) {
      const mine = job.subject.flatMap((s) => bySubject.get(hashKey(s.hash)) ?? []);
      if (job.subject.length > 1) mine.sort((a, b) => a.at - b.at); // several key versions: back in query order
      job.resolve(mine.filter(({ row }) => job.categories.includes(row.category)).map(({ row }) => toReferral(row)));
    }
  };

  const flush = () => {
    scheduled = false;
    const jobs = queued;
    queued = [];
    for (let i = 0; i < jobs.length; i += MAX_BATCH) {
      const batch = jobs.slice(i, i + MAX_BATCH);
      // Whatever fails, every caller of the batch gets an answer (rejecting a settled promise is a no-op).
      runBatch(batch).catch((err) => {
        for (const job of batch) job.reject(err);
      });
    }
  };

  return (subject, allowedCategories, category) => {
    const categories = categoriesToSearch(allowedCategories, category);
    if (categories.length === 0 || subject.length === 0) return Promise.resolve([]);
    return new Promise<Referral[]>((resolve, reject) => {
      queued.push({ subject, categories, resolve, reject });
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    });
  };
}
