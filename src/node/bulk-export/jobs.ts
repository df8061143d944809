import type { Migration, Queryable, Store } from '../../kit/store/store.ts';

// Bulk Data export jobs and their output files, in the node's own tables: a job survives a restart
// (a lease that runs out is taken over by any instance), every instance of the node answers status
// and download requests, and a file is deleted once downloaded or when the job expires. No BSN is
// stored: files hold only de-identified resources, the job only the permit (no personal data).

export const bulkExportMigrations: Migration[] = [
  {
    id: '360_bulk_export_jobs',
    sql: `CREATE TABLE bulk_export_jobs (
  id text PRIMARY KEY,
  tenant_ura text NOT NULL,
  permit_jti text NOT NULL,
  requester_ura text NOT NULL,
  permit text NOT NULL,
  types text NOT NULL,
  request_url text NOT NULL,
  status text NOT NULL,
  progress text NOT NULL DEFAULT '',
  error text,
  transaction_time timestamptz NOT NULL,
  lease_owner text,
  lease_until timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL
);
CREATE INDEX bulk_export_jobs_status ON bulk_export_jobs (status, lease_until);
CREATE TABLE bulk_export_files (
  job_id text NOT NULL REFERENCES bulk_export_jobs (id) ON DELETE CASCADE,
  seq integer NOT NULL,
  resource_type text NOT NULL,
  count integer NOT NULL,
  body text NOT NULL,
  PRIMARY KEY (job_id, seq)
);`,
  },
];

export type JobStatus = 'running' | 'done' | 'failed' | 'cancelled';

export interface ExportJob {
  id: string;
  tenantUra: string;
  permitJti: string;
  requesterUra: string;
  permit: string;
  types: string[];
  requestUrl: string;
  status: JobStatus;
  progress: string;
  error: string | null;
  transactionTime: string;
  expiresAt: string;
}

interface JobRow {
  id: string;
  tenant_ura: string;
  permit_jti: string;
  requester_ura: string;
  permit: string;
  types: string;
  request_url: string;
  status: string;
  progress: string;
  error: string | null;
  transaction_time: string | Date;
  expires_at: string | Date;
  [k: string]: unknown;
}

const iso = (v: string | Date) => (v instanceof Date ? v : new Date(v)).toISOString();

function toJob(r: JobRow): ExportJob {
  return {
    id: r.id,
    tenantUra: r.tenant_ura,
    permitJti: r.permit_jti,
    requesterUra: r.requester_ura,
    permit: r.permit,
    types: r.types.split(','),
    requestUrl: r.request_url,
    status: r.status as JobStatus,
    progress: r.progress,
    error: r.error,
    transactionTime: iso(r.transaction_time),
    expiresAt: iso(r.expires_at),
  };
}

export interface OutputFile {
  seq: number;
  type: string;
  count: number;
}

export class JobStore {
  constructor(
    private readonly store: Store,
    /** This instance's name on the leases it holds. */
    readonly owner: string,
    private readonly leaseMs = 30_000,
  ) {}

  async create(job: Omit<ExportJob, 'status' | 'progress' | 'error'>): Promise<void> {
    await this.store.query(
      `INSERT INTO bulk_export_jobs (id, tenant_ura, permit_jti, requester_ura, permit, types, request_url, status, transaction_time, expires_at, lease_owner, lease_until)
       VALUES ($1, $2, $3, $4, $5, $6, $7, 'running', $8::timestamptz, $9::timestamptz, $10, now() + $11 * interval '1 millisecond')`,
      [job.id, job.tenantUra, job.permitJti, job.requesterUra, job.permit, job.types.join(','), job.requestUrl, job.transactionTime, job.expiresAt, this.owner, this.leaseMs],
    );
  }

  async get(id: string): Promise<ExportJob | null> {
    const [row] = await this.store.query<JobRow>('SELECT * FROM bulk_export_jobs WHERE id = $1', [id]);
    return row ? toJob(row) : null;
  }

  /** Keeps this instance's lease; false when the job is no longer ours to run (cancelled, taken over). */
  async renew(id: string, progress: string): Promise<boolean> {
    const rows = await this.store.query(
      `UPDATE bulk_export_jobs SET lease_until = now() + $3 * interval '1 millisecond', progress = $4
       WHERE id = $1 AND status = 'running' AND lease_owner = $2 RETURNING id`,
      [id, this.owner, this.leaseMs, progress],
    );
    return rows.length === 1;
  }

  /** Running jobs whose lease ran out (their instance stopped): this instance takes them over, output discarded. */
  async takeOver(): Promise<ExportJob[]> {
    return this.store.transaction(async (tx) => {
      const rows = await tx.query<JobRow>(
        `UPDATE bulk_export_jobs SET lease_owner = $1, lease_until = now() + $2 * interval '1 millisecond', progress = 'restarted'
         WHERE status = 'running' AND lease_until < now() AND expires_at > now() RETURNING *`,
        [this.owner, this.leaseMs],
      );
      for (const r of rows) await tx.query('DELETE FROM bulk_export_files WHERE job_id = $1', [r.id]);
      return rows.map(toJob);
    });
  }

  /** Writes one output file, only while the job is still ours and running (a cancel wins). */
  async addFile(id: string, seq: number, type: string, count: number, body: string): Promise<boolean> {
    return this.store.transaction(async (tx) => {
      if (!(await this.stillOurs(tx, id))) return false;
      await tx.query('INSERT INTO bulk_export_files (job_id, seq, resource_type, count, body) VALUES ($1, $2, $3, $4, $5)', [id, seq, type, count, body]);
      return true;
    });
  }

  async finish(id: string, status: 'done' | 'failed', error?: string): Promise<boolean> {
    const rows = await this.store.query(
      `UPDATE bulk_export_jobs SET status = $3, error = $4, lease_owner = NULL, lease_until = NULL
       WHERE id = $1 AND status = 'running' AND lease_owner = $2 RETURNING id`,
      [id, this.owner, status, error ?? null],
    );
    if (status === 'failed' && rows.length) await this.store.query('DELETE FROM bulk_export_files WHERE job_id = $1', [id]);
    return rows.length === 1;
  }

  /** DELETE on the status URL: the job is cancelled and its files removed at once. */
  async cancel(id: string): Promise<void> {
    await this.store.transaction(async (tx) => {
      await tx.query(`UPDATE bulk_export_jobs SET status = 'cancelled', lease_owner = NULL, lease_until = NULL WHERE id = $1`, [id]);
      await tx.query('DELETE FROM bulk_export_files WHERE job_id = $1', [id]);
    });
  }

  async files(id: string): Promise<OutputFile[]> {
    const rows = await this.store.query<{ seq: number; resource_type: string; count: number }>(
      'SELECT seq, resource_type, count FROM bulk_export_files WHERE job_id = $1 ORDER BY seq',
      [id],
    );
    return rows.map((r) => ({ seq: Number(r.seq), type: r.resource_type, count: Number(r.count) }));
  }

  /** Hands out a file once: it is deleted in the same transaction (files removed after download). */
  async takeFile(id: string, seq: number): Promise<string | null> {
    const rows = await this.store.query<{ body: string }>('DELETE FROM bulk_export_files WHERE job_id = $1 AND seq = $2 RETURNING body', [id, seq]);
    return rows[0]?.body ?? null;
  }

  /** Removes expired jobs with their files; returns how many. */
  async sweep(): Promise<number> {
    const rows = await this.store.query('DELETE FROM bulk_export_jobs WHERE expires_at < now() RETURNING id');
    return rows.length;
  }

  private async stillOurs(tx: Queryable, id: string): Promise<boolean> {
    const rows = await tx.query(`SELECT 1 FROM bulk_export_jobs WHERE id = $1 AND status = 'running' AND lease_owner = $2 FOR UPDATE`, [id, this.owner]);
    return rows.length === 1;
  }
}
