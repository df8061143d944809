import type { Migration } from '../kit/store/store.ts';

// One row per referral: "custodian has data of category for the patient behind subject_hash".
// subject_hash is HMAC-SHA256 (NVI key) of the unblinded PRS element; no BSN, no token, no element
// is stored. The natural key (subject_hash, custodian, category) is the primary key, which makes
// registration idempotent and lookups by subject primary-key range scans.

export const nviMigrations: Migration[] = [
  {
    id: '001_referrals',
    sql: `
CREATE TABLE referrals (
  subject_hash bytea NOT NULL,
  custodian text NOT NULL,
  category text NOT NULL,
  id uuid NOT NULL UNIQUE,
  key_version integer NOT NULL,
  source_client text NOT NULL,
  created timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (subject_hash, custodian, category)
);
CREATE INDEX referrals_by_source ON referrals (custodian, source_client);
`,
  },
];
