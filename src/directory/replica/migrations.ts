import type { Migration } from '../../kit/store/store.ts';

// The node's local replica of the national directory. Tables are prefixed because the replica
// lives in the node's own schema next to its other tables.

export const REPLICA_MIGRATIONS: Migration[] = [
  {
    id: 'directory_replica_001',
    sql: `
CREATE TABLE dir_entries (
  type text NOT NULL,
  id text NOT NULL,
  version_num bigint NOT NULL,
  last_updated timestamptz NOT NULL,
  status text,
  org_id text,
  resource jsonb NOT NULL,
  PRIMARY KEY (type, id)
);
CREATE INDEX dir_entries_identifier ON dir_entries USING gin ((resource->'identifier') jsonb_path_ops);
CREATE INDEX dir_entries_org ON dir_entries (type, org_id);
CREATE TABLE dir_sync_state (
  source text PRIMARY KEY,
  watermark text,
  ready boolean NOT NULL DEFAULT false,
  updated_at timestamptz NOT NULL DEFAULT now()
);
`,
  },
];
