import { auditLogMigrations } from '../audit/contract.ts';
import type { Migration } from '../kit/store/store.ts';

// Schema `hdab`: the permits (application, decision, the signed permit, its workspace's state)
// and the HDAB's own hash-chained audit log. No BSN is ever stored here: the HDAB sees only
// research pseudonyms, and those only inside a workspace.
export const HDAB_MIGRATIONS: Migration[] = [
  {
    id: '001_permits',
    sql: `CREATE TABLE permit (
  id text PRIMARY KEY,
  applicant_ura text NOT NULL,
  status text NOT NULL CHECK (status IN ('applied', 'granted', 'refused', 'expired')),
  application jsonb NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now(),
  decided_at timestamptz,
  decided_by text,
  decision_reason text,
  jws text,
  nbf timestamptz,
  exp timestamptz,
  workspace text NOT NULL DEFAULT 'none' CHECK (workspace IN ('none', 'extracting', 'ready', 'failed', 'destroyed')),
  extraction jsonb
);
CREATE INDEX permit_applicant ON permit (applicant_ura);
CREATE INDEX permit_exp ON permit (exp) WHERE status = 'granted';`,
  },
  ...auditLogMigrations,
];
