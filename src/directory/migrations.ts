import type { Migration } from '../kit/store/store.ts';

// The national directory: current version per resource plus every version (ITI-91 history).
// `seq` orders history in commit order; writers serialise on an advisory lock so that seq
// order and last_updated order agree (see clock.ts).

export const DIRECTORY_MIGRATIONS: Migration[] = [
  {
    id: '001_directory_resources',
    sql: `
CREATE TABLE resources (
  type text NOT NULL,
  id text NOT NULL,
  version_id integer NOT NULL,
  last_updated timestamptz NOT NULL,
  status text,
  owner_ura text,
  resource jsonb NOT NULL,
  PRIMARY KEY (type, id)
);
CREATE INDEX resources_identifier ON resources USING gin ((resource->'identifier') jsonb_path_ops);
CREATE INDEX resources_updated ON resources (type, last_updated);
CREATE INDEX resources_owner ON resources (owner_ura, type);
CREATE TABLE history (
  seq bigserial PRIMARY KEY,
  type text NOT NULL,
  id text NOT NULL,
  version_id integer NOT NULL,
  last_updated timestamptz NOT NULL,
  method text NOT NULL,
  resource jsonb NOT NULL,
  UNIQUE (type, id, version_id)
);
CREATE INDEX history_type_updated ON history (type, last_updated, seq);
`,
  },
];
