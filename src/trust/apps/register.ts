import { badRequest, conflict, notFound } from '../../kit/fhir/outcome.ts';
import type { Migration, Queryable } from '../../kit/store/store.ts';

// The register of citizen apps (PGO, MedMij-like): which personal health apps may ask a citizen
// for access to her data through the network, where they may be redirected to, which scopes they
// may ask for, and whether they may act at all. Administered by the operator; the portal's app
// authorisation server reads it (a suspended app's tokens stop working within its cache age).

export type AppStatus = 'active' | 'suspended' | 'revoked';
export const APP_STATUSES: readonly AppStatus[] = ['active', 'suspended', 'revoked'];

export interface CitizenApp {
  clientId: string;
  name: string;
  vendor: string;
  redirectUris: string[];
  /** Public keys of a confidential app (private_key_jwt); absent for a public app (PKCE + DPoP only). */
  jwks?: { keys: unknown[] };
  /** SMART scopes the app may ask for, e.g. patient/MedicationStatement.rs, patient/Observation.c. */
  scopes: string[];
  status: AppStatus;
  statusReason: string;
  statusChangedAt: string;
}

export const citizenAppMigrations: Migration[] = [
  {
    id: 'trust_apps_001_register',
    sql: `CREATE TABLE citizen_apps (
  client_id text PRIMARY KEY,
  name text NOT NULL,
  vendor text NOT NULL,
  redirect_uris jsonb NOT NULL,
  jwks jsonb,
  scopes jsonb NOT NULL,
  status text NOT NULL CHECK (status IN ('active', 'suspended', 'revoked')),
  status_reason text NOT NULL DEFAULT '',
  status_changed_at timestamptz NOT NULL DEFAULT now(),
  registered_by text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);`,
  },
];

const CLIENT_ID = /^[a-z0-9][a-z0-9._-]{2,63}$/;
/** SMART v2 patient scopes (resource + any of c r u d s), and the launch/openid/offline helpers. */
const SCOPE = /^(patient\/(\*|[A-Z][A-Za-z]{1,40})\.[cruds]{1,5}|launch\/patient|openid|fhirUser|offline_access)$/;

export const isAppScope = (s: string): boolean => SCOPE.test(s);

/** A redirect URI an app may register: https anywhere, http only on the loopback (RFC 8252), no fragment. */
export function isRedirectUri(s: string): boolean {
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    return false;
  }
  if (u.hash || u.username || u.password) return false;
  if (u.protocol === 'https:') return true;
  return u.protocol === 'http:' && ['127.0.0.1', '[::1]', 'localhost'].includes(u.hostname);
}

/** What the operator registers of an app; its status is the register's. */
export type AppInput = Omit<CitizenApp, 'status' | 'statusReason' | 'statusChangedAt'>;

/** Checks an app registration; a 400 naming the field otherwise. */
export function checkAppInput(b: Record<string, unknown>): AppInput {
  const text = (f: string, max = 200) => {
    const v = b[f];
    if (typeof v !== 'string' || !v.trim() || v.length > max) throw badRequest(`${f} is required (a string of at most ${max} characters)`, [f]);
    return v.trim();
  };
  const list = (f: string, ok: (s: string) => boolean) => {
    const v = b[f];
    if (!Array.isArray(v) || v.length === 0 || v.length > 50 || !v.every((x) => typeof x === 'string' && ok(x))) {
      throw badRequest(`${f} must be a non-empty array of valid values`, [f]);
    }
    return [...new Set(v as string[])];
  };
  const clientId = text('clientId', 64);
  if (!CLIENT_ID.test(clientId)) throw badRequest('clientId: 3-64 of a-z 0-9 . _ -', ['clientId']);
  let jwks: AppInput['jwks'];
  if (b.jwks !== undefined && b.jwks !== null) {
    const k = b.jwks as { keys?: unknown };
    if (typeof k !== 'object' || !Array.isArray(k.keys) || k.keys.length === 0 || !k.keys.every((x) => x && typeof x === 'object' && !('d' in (x as object)))) {
      throw badRequest('jwks must be a JWK set of public keys', ['jwks']);
    }
    jwks = { keys: k.keys };
  }
  return { clientId, name: text('name'), vendor: text('vendor'), redirectUris: list('redirectUris', isRedirectUri), jwks, scopes: list('scopes', isAppScope) };
}

type AppRow = {
  client_id: string;
  name: string;
  vendor: string;
  redirect_uris: unknown;
  jwks: unknown;
  scopes: unknown;
  status: AppStatus;
  status_reason: string;
  status_changed_at: Date | string;
};

const json = <T>(v: unknown): T => (typeof v === 'string' ? JSON.parse(v) : v) as T;

function appOf(r: AppRow): CitizenApp {
  return {
    clientId: r.client_id,
    name: r.name,
    vendor: r.vendor,
    redirectUris: json<string[]>(r.redirect_uris),
    jwks: r.jwks ? json<{ keys: unknown[] }>(r.jwks) : undefined,
    scopes: json<string[]>(r.scopes),
    status: r.status,
    statusReason: r.status_reason,
    statusChangedAt: new Date(r.status_changed_at).toISOString(),
  };
}

export async function registerApp(db: Queryable, input: AppInput, actor: string): Promise<CitizenApp> {
  const rows = await db.query<AppRow>(
    `INSERT INTO citizen_apps (client_id, name, vendor, redirect_uris, jwks, scopes, status, registered_by)
     VALUES ($1, $2, $3, $4, $5, $6, 'active', $7) ON CONFLICT (client_id) DO NOTHING RETURNING *`,
    [input.clientId, input.name, input.vendor, JSON.stringify(input.redirectUris), input.jwks ? JSON.stringify(input.jwks) : null, JSON.stringify(input.scopes), actor],
  );
  if (!rows[0]) throw conflict(`an app with client id ${input.clientId} is already registered`);
  return appOf(rows[0]);
}

export async function listApps(db: Queryable): Promise<CitizenApp[]> {
  return (await db.query<AppRow>('SELECT * FROM citizen_apps ORDER BY name, client_id')).map(appOf);
}

export async function getApp(db: Queryable, clientId: string): Promise<CitizenApp> {
  const rows = await db.query<AppRow>('SELECT * FROM citizen_apps WHERE client_id = $1', [clientId]);
  if (!rows[0]) throw notFound(`no app with client id ${clientId}`);
  return appOf(rows[0]);
}

/** A revoked app stays revoked (register a new client id instead). */
export async function setAppStatus(db: Queryable, clientId: string, status: string, reason: string): Promise<CitizenApp> {
  if (!APP_STATUSES.includes(status as AppStatus)) throw badRequest(`status must be one of ${APP_STATUSES.join(', ')}`, ['status']);
  const current = await getApp(db, clientId);
  if (current.status === 'revoked' && status !== 'revoked') throw conflict('a revoked app cannot be reactivated');
  const rows = await db.query<AppRow>(
    'UPDATE citizen_apps SET status = $2, status_reason = $3, status_changed_at = now() WHERE client_id = $1 RETURNING *',
    [clientId, status, reason.slice(0, 500)],
  );
  return appOf(rows[0]);
}
