import type { Migration } from '../../kit/store/store.ts';

// The trust framework's register: participants (care organisations by URA), vendors (by KvK)
// and whom they host, status with its history, qualifications per exchange with validity,
// the certificates the network CA issued, and the published agreements versions.

export const registerMigrations: Migration[] = [
  {
    id: '001_register',
    sql: `
CREATE TABLE participants (
  ura text PRIMARY KEY,
  name text NOT NULL,
  organization_type text NOT NULL,
  agb text,
  address jsonb NOT NULL DEFAULT '{}',
  status text NOT NULL CHECK (status IN ('applied', 'admitted', 'suspended', 'revoked')),
  status_changed_at timestamptz NOT NULL DEFAULT now(),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE vendors (
  kvk text PRIMARY KEY,
  name text NOT NULL,
  status text NOT NULL CHECK (status IN ('applied', 'admitted', 'suspended', 'revoked')),
  status_changed_at timestamptz NOT NULL DEFAULT now(),
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE vendor_hosts (
  kvk text NOT NULL REFERENCES vendors (kvk),
  ura text NOT NULL REFERENCES participants (ura),
  PRIMARY KEY (kvk, ura)
);
CREATE TABLE status_history (
  id bigserial PRIMARY KEY,
  subject_kind text NOT NULL CHECK (subject_kind IN ('participant', 'vendor')),
  subject text NOT NULL,
  status text NOT NULL,
  reason text NOT NULL DEFAULT '',
  actor text NOT NULL,
  at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX status_history_subject ON status_history (subject_kind, subject, id);
CREATE TABLE qualifications (
  id bigserial PRIMARY KEY,
  ura text NOT NULL REFERENCES participants (ura),
  qualification text NOT NULL,
  valid_from timestamptz NOT NULL,
  valid_until timestamptz,
  granted_by text NOT NULL,
  granted_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX qualifications_ura ON qualifications (ura, qualification);
CREATE TABLE certificates (
  serial text PRIMARY KEY,
  thumbprint text NOT NULL UNIQUE,
  ura text,
  kvk text,
  system_number text NOT NULL DEFAULT '',
  not_before timestamptz NOT NULL,
  not_after timestamptz NOT NULL,
  pem text NOT NULL,
  status text NOT NULL DEFAULT 'valid' CHECK (status IN ('valid', 'revoked')),
  revoked_at timestamptz,
  revocation_reason text,
  replaces text,
  issued_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX certificates_holder ON certificates (ura, kvk);
CREATE TABLE agreements (
  version integer PRIMARY KEY,
  document jsonb NOT NULL,
  published_by text NOT NULL,
  published_at timestamptz NOT NULL DEFAULT now()
);
`,
  },
];
