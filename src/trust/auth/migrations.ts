import type { Migration } from '../../kit/store/store.ts';

// Tables the authorisation-server side needs in the store of whichever part hosts it (the trust
// part, or a node's own AS): its signing key, shared by every instance over one database, and
// the single-use register of client-assertion ids. Append these to the part's migrations.

export const authMigrations: Migration[] = [
  {
    id: 'auth_001_keys_and_jti',
    sql: `
CREATE TABLE auth_signing_keys (
  purpose text PRIMARY KEY,
  kid text NOT NULL,
  private_jwk jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE auth_jti (
  issuer text NOT NULL,
  jti text NOT NULL,
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (issuer, jti)
);
CREATE INDEX auth_jti_expires ON auth_jti (expires_at);
`,
  },
];
