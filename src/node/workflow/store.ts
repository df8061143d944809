import type { Queryable, Store } from '../../kit/store/store.ts';
import type { WorkflowStatus, WorkflowTaskRecord } from './task-resources.ts';

// SQL for the workflow tables (migrations.ts). The sender's Task and its outbox row are written
// in one transaction: a handover exists only together with the notification that announces it.

interface TaskRow {
  id: string;
  tenant_ura: string;
  exchange: string;
  owner_ura: string;
  patient_id: string;
  status: string;
  status_reason: string | null;
  inputs: string[] | string;
  outputs: string[] | string;
  requester: WorkflowTaskRecord['requester'] | string;
  note: string | null;
  created_at: Date | string;
  updated_at: Date | string;
}

const json = <T>(v: T | string): T => (typeof v === 'string' ? (JSON.parse(v) as T) : v);
const iso = (v: Date | string) => new Date(v).toISOString();

function record(r: TaskRow, names: { tenantName: string; ownerName?: string }): WorkflowTaskRecord {
  return {
    id: r.id,
    tenantUra: r.tenant_ura,
    tenantName: names.tenantName,
    exchange: r.exchange,
    ownerUra: r.owner_ura,
    ownerName: names.ownerName,
    patientId: r.patient_id,
    status: r.status as WorkflowStatus,
    statusReason: r.status_reason ?? undefined,
    inputs: json<string[]>(r.inputs),
    outputs: json<string[]>(r.outputs),
    requester: json<WorkflowTaskRecord['requester']>(r.requester),
    note: r.note ?? undefined,
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
  };
}

export async function insertTaskWithNotification(store: Store, t: Omit<WorkflowTaskRecord, 'createdAt' | 'updatedAt' | 'tenantName' | 'ownerName' | 'outputs'>): Promise<void> {
  await store.transaction(async (tx) => {
    await tx.query(
      `INSERT INTO workflow_tasks (id, tenant_ura, exchange, owner_ura, patient_id, status, inputs, requester, note)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      [t.id, t.tenantUra, t.exchange, t.ownerUra, t.patientId, t.status, JSON.stringify(t.inputs), JSON.stringify(t.requester), t.note ?? null],
    );
    await tx.query('INSERT INTO workflow_outbox (task_id) VALUES ($1)', [t.id]);
  });
}

export async function getTask(db: Queryable, id: string, names: (r: { tenantUra: string; ownerUra: string }) => { tenantName: string; ownerName?: string }): Promise<WorkflowTaskRecord | null> {
  const [r] = await db.query<TaskRow & Record<string, unknown>>('SELECT * FROM workflow_tasks WHERE id = $1', [id]);
  return r ? record(r, names({ tenantUra: r.tenant_ura, ownerUra: r.owner_ura })) : null;
}

/** Moves the Task only if it is still in `from` (a concurrent change wins once). */
export async function updateTaskStatus(store: Store, id: string, from: WorkflowStatus, to: WorkflowStatus, reason: string | undefined, outputs: string[]): Promise<boolean> {
  const rows = await store.query(
    `UPDATE workflow_tasks SET status = $3, status_reason = $4, outputs = CASE WHEN $5::jsonb = '[]'::jsonb THEN outputs ELSE $5::jsonb END, updated_at = now()
     WHERE id = $1 AND status = $2 RETURNING id`,
    [id, from, to, reason ?? null, JSON.stringify(outputs)],
  );
  return rows.length === 1;
}

export interface OutboxRow {
  taskId: string;
  attempts: number;
}

/**
 * Claims due notifications: each claimed row's next attempt is pushed `leaseMs` ahead first, so
 * another instance (or the next pass) does not send it again while this one is in flight.
 */
export async function claimDue(store: Store, limit: number, leaseMs: number, only?: string): Promise<OutboxRow[]> {
  // One statement: the rows are locked, skipped by any concurrent pass, and leased in one go.
  const rows = await store.query<{ task_id: string; attempts: number }>(
    `UPDATE workflow_outbox SET next_at = now() + ($2::text || ' milliseconds')::interval
     WHERE task_id IN (
       SELECT task_id FROM workflow_outbox WHERE state = 'pending' AND next_at <= now() ${only ? 'AND task_id = $3' : ''}
       ORDER BY next_at LIMIT $1 FOR UPDATE SKIP LOCKED)
     RETURNING task_id, attempts`,
    only ? [limit, String(leaseMs), only] : [limit, String(leaseMs)],
  );
  return rows.map((r) => ({ taskId: r.task_id, attempts: Number(r.attempts) }));
}

export async function markDelivered(store: Store, taskId: string): Promise<void> {
  await store.query(`UPDATE workflow_outbox SET state = 'delivered', delivered_at = now(), attempts = attempts + 1, last_error = NULL WHERE task_id = $1`, [taskId]);
}

export async function markRetry(store: Store, taskId: string, error: string, delayMs: number): Promise<void> {
  await store.query(
    `UPDATE workflow_outbox SET attempts = attempts + 1, last_error = $2, next_at = now() + ($3::text || ' milliseconds')::interval WHERE task_id = $1`,
    [taskId, error.slice(0, 500), String(delayMs)],
  );
}

/** A refusal the receiver will give again (its answer was a 4xx): kept, not retried. */
export async function markFailed(store: Store, taskId: string, error: string): Promise<void> {
  await store.query(`UPDATE workflow_outbox SET state = 'refused', attempts = attempts + 1, last_error = $2 WHERE task_id = $1`, [taskId, error.slice(0, 500)]);
}

export async function deliveryOf(db: Queryable, taskId: string): Promise<{ state: string; attempts: number; lastError?: string } | null> {
  const [r] = await db.query<{ state: string; attempts: number; last_error: string | null }>('SELECT state, attempts, last_error FROM workflow_outbox WHERE task_id = $1', [taskId]);
  return r ? { state: r.state, attempts: Number(r.attempts), lastError: r.last_error ?? undefined } : null;
}

export interface InboxRecord {
  id: string;
  tenantUra: string;
  senderUra: string;
  exchange: string;
  taskUrl: string;
  status: WorkflowStatus;
  description?: string;
  receivedAt: string;
}

interface InboxRow {
  id: string;
  tenant_ura: string;
  sender_ura: string;
  exchange: string;
  task_url: string;
  status: string;
  description: string | null;
  received_at: Date | string;
}

const inbox = (r: InboxRow): InboxRecord => ({
  id: r.id,
  tenantUra: r.tenant_ura,
  senderUra: r.sender_ura,
  exchange: r.exchange,
  taskUrl: r.task_url,
  status: r.status as WorkflowStatus,
  description: r.description ?? undefined,
  receivedAt: iso(r.received_at),
});

/** Records a notification once: the same workflow Task notified again returns the first record. */
export async function receiveNotification(store: Store, n: Omit<InboxRecord, 'receivedAt' | 'status'>): Promise<{ record: InboxRecord; created: boolean }> {
  const inserted = await store.query<InboxRow & Record<string, unknown>>(
    `INSERT INTO workflow_inbox (id, tenant_ura, sender_ura, exchange, task_url, description) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (tenant_ura, sender_ura, task_url) DO NOTHING RETURNING *`,
    [n.id, n.tenantUra, n.senderUra, n.exchange, n.taskUrl, n.description ?? null],
  );
  if (inserted[0]) return { record: inbox(inserted[0]), created: true };
  const [existing] = await store.query<InboxRow & Record<string, unknown>>('SELECT * FROM workflow_inbox WHERE tenant_ura = $1 AND sender_ura = $2 AND task_url = $3', [
    n.tenantUra,
    n.senderUra,
    n.taskUrl,
  ]);
  return { record: inbox(existing), created: false };
}

export async function listInbox(db: Queryable, tenantUra: string): Promise<InboxRecord[]> {
  const rows = await db.query<InboxRow & Record<string, unknown>>('SELECT * FROM workflow_inbox WHERE tenant_ura = $1 ORDER BY received_at DESC LIMIT 200', [tenantUra]);
  return rows.map(inbox);
}

export async function getInbox(db: Queryable, tenantUra: string, id: string): Promise<InboxRecord | null> {
  const [r] = await db.query<InboxRow & Record<string, unknown>>('SELECT * FROM workflow_inbox WHERE tenant_ura = $1 AND id = $2', [tenantUra, id]);
  return r ? inbox(r) : null;
}

export async function setInboxStatus(db: Queryable, id: string, status: WorkflowStatus): Promise<void> {
  await db.query('UPDATE workflow_inbox SET status = $2, updated_at = now() WHERE id = $1', [id, status]);
}
