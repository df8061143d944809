import type { Migration } from '../kit/store/store.ts';

// Schema `consent`. consent_history keeps every version of every choice, append-only (a trigger
// refuses UPDATE and DELETE); consent_current is the projection the closed question reads, indexed
// by BSN. The registry is allowed to hold BSNs; it never logs them.
export const CONSENT_MIGRATIONS: Migration[] = [
  {
    id: '001_consents',
    sql: `CREATE TABLE consent_history (
  id text NOT NULL,
  version int NOT NULL,
  bsn text NOT NULL,
  resource jsonb NOT NULL,
  recorded_at timestamptz NOT NULL DEFAULT now(),
  recorded_by_kind text NOT NULL CHECK (recorded_by_kind IN ('citizen', 'provider', 'system')),
  recorded_by_ura text,
  recorded_by_professional text,
  PRIMARY KEY (id, version)
);
CREATE FUNCTION consent_history_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'consent_history is append-only';
END;
$$;
CREATE TRIGGER consent_history_no_change BEFORE UPDATE OR DELETE ON consent_history
  FOR EACH ROW EXECUTE FUNCTION consent_history_append_only();
CREATE TABLE consent_current (
  id text PRIMARY KEY,
  version int NOT NULL,
  bsn text NOT NULL,
  status text NOT NULL,
  provision text NOT NULL,
  holder_uras text[] NOT NULL DEFAULT '{}',
  holder_types text[] NOT NULL DEFAULT '{}',
  requester_uras text[] NOT NULL DEFAULT '{}',
  requester_types text[] NOT NULL DEFAULT '{}',
  data_categories text[] NOT NULL DEFAULT '{}',
  period_start timestamptz,
  period_end timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX consent_current_bsn ON consent_current (bsn);`,
  },
  {
    id: '002_subscriptions',
    sql: `CREATE TABLE subscription (
  id text PRIMARY KEY,
  subscriber_ura text NOT NULL,
  bsn text NOT NULL,
  endpoint text NOT NULL,
  status text NOT NULL DEFAULT 'active',
  resource jsonb NOT NULL,
  events_since_start bigint NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX subscription_bsn ON subscription (bsn) WHERE status <> 'off';
CREATE TABLE notification_outbox (
  id bigserial PRIMARY KEY,
  subscription_id text NOT NULL REFERENCES subscription (id),
  event_number bigint NOT NULL,
  consent_id text NOT NULL,
  consent_version int NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  attempts int NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  delivered_at timestamptz,
  last_error text
);
CREATE INDEX notification_outbox_due ON notification_outbox (next_attempt_at) WHERE delivered_at IS NULL;`,
  },
  {
    // Secondary use (EHDS): research choices are their own kind; existing rows are care choices.
    id: '003_research_purpose',
    sql: `ALTER TABLE consent_current ADD COLUMN purpose text NOT NULL DEFAULT 'TREAT';`,
  },
];
