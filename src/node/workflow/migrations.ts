import type { Migration } from '../../kit/store/store.ts';

// Notified pull (Twiin/Nictiz style): what a node keeps for its tenants as sender and receiver.
// Patients are named by the EHR's local id only (sender side) or not at all (receiver side:
// the patient is in the workflow Task it pulls); a BSN is never stored in these tables.
export const workflowMigrations: Migration[] = [
  {
    id: '320_workflow_tasks',
    sql: `CREATE TABLE workflow_tasks (
  id text PRIMARY KEY,
  tenant_ura text NOT NULL,
  exchange text NOT NULL,
  owner_ura text NOT NULL,
  patient_id text NOT NULL,
  status text NOT NULL,
  status_reason text,
  inputs jsonb NOT NULL,
  outputs jsonb NOT NULL DEFAULT '[]',
  requester jsonb NOT NULL,
  note text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX workflow_tasks_tenant ON workflow_tasks (tenant_ura, created_at);
CREATE TABLE workflow_outbox (
  task_id text PRIMARY KEY REFERENCES workflow_tasks (id),
  state text NOT NULL DEFAULT 'pending',
  attempts integer NOT NULL DEFAULT 0,
  next_at timestamptz NOT NULL DEFAULT now(),
  last_error text,
  delivered_at timestamptz
);
CREATE INDEX workflow_outbox_due ON workflow_outbox (state, next_at);
CREATE TABLE workflow_inbox (
  id text PRIMARY KEY,
  tenant_ura text NOT NULL,
  sender_ura text NOT NULL,
  exchange text NOT NULL,
  task_url text NOT NULL,
  status text NOT NULL DEFAULT 'requested',
  description text,
  received_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (tenant_ura, sender_ura, task_url)
);
CREATE INDEX workflow_inbox_tenant ON workflow_inbox (tenant_ura, received_at);`,
  },
];
