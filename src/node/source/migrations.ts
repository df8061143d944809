import type { Migration } from '../../kit/store/store.ts';

// The node's own bookkeeping for referral registration. Patients are named by the EHR's local
// id only: the BSN is read from the EHR when a referral is (de)registered, never stored here.
export const nodeMigrations: Migration[] = [
  {
    id: '300_node_referrals',
    sql: `CREATE TABLE referral_holdings (
  tenant_ura text NOT NULL,
  resource_key text NOT NULL,
  patient_id text NOT NULL,
  category text NOT NULL,
  PRIMARY KEY (tenant_ura, resource_key)
);
CREATE INDEX referral_holdings_patient ON referral_holdings (tenant_ura, patient_id, category);
CREATE TABLE referral_registered (
  tenant_ura text NOT NULL,
  patient_id text NOT NULL,
  category text NOT NULL,
  registered_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_ura, patient_id, category)
);
CREATE TABLE referral_cursor (
  tenant_ura text PRIMARY KEY,
  seq bigint NOT NULL
);`,
  },
  {
    // (patient, category) pairs whose holdings changed and that the NVI has not yet been told about.
    id: '301_node_referral_pending',
    sql: `CREATE TABLE referral_pending (
  tenant_ura text NOT NULL,
  patient_id text NOT NULL,
  category text NOT NULL,
  PRIMARY KEY (tenant_ura, patient_id, category)
);`,
  },
  {
    // The change cursor of FHIR _history / _lastUpdated polling: the EHR's own instant (ISO text).
    // referral_cursor (the old /changes sequence number) is no longer read.
    id: '317_node_referral_since',
    sql: `CREATE TABLE referral_since (
  tenant_ura text PRIMARY KEY,
  since text NOT NULL
);`,
  },
];
