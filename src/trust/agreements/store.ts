import { badRequest, conflict } from '../../kit/fhir/outcome.ts';
import type { Queryable } from '../../kit/store/store.ts';
import { defaultAgreements } from './default-agreements.ts';
import type { AgreementsDocument, ConsentMode } from './types.ts';

// Versions of the agreements document. Versions only go up; the first start publishes the
// default document, and the operator publishes successors (whole, or a change to the network
// settings such as the consent mode).

export async function currentAgreements(db: Queryable): Promise<AgreementsDocument> {
  const rows = await db.query<{ document: AgreementsDocument | string }>('SELECT document FROM agreements ORDER BY version DESC LIMIT 1');
  if (rows.length) return parse(rows[0].document);
  const initial = defaultAgreements();
  await db.query('INSERT INTO agreements (version, document, published_by) VALUES ($1, $2, $3) ON CONFLICT (version) DO NOTHING', [
    initial.version,
    JSON.stringify(initial),
    'default',
  ]);
  return currentAgreements(db);
}

function parse(v: AgreementsDocument | string): AgreementsDocument {
  return typeof v === 'string' ? JSON.parse(v) : v;
}

export function checkAgreements(doc: AgreementsDocument): void {
  if (!doc || typeof doc !== 'object') throw badRequest('agreements document must be an object');
  if (!Number.isInteger(doc.version) || doc.version < 1) throw badRequest('version must be a positive integer');
  if (!doc.network || !['opt-in', 'opt-out'].includes(doc.network.consentMode)) throw badRequest('network.consentMode must be opt-in or opt-out');
  if (!Number.isInteger(doc.network.statusMaxAgeSeconds) || doc.network.statusMaxAgeSeconds < 1) {
    throw badRequest('network.statusMaxAgeSeconds must be a positive integer');
  }
  if (!Array.isArray(doc.scopes) || !Array.isArray(doc.exchanges)) throw badRequest('scopes and exchanges must be arrays');
  const scopes = new Set<string>();
  for (const s of doc.scopes) {
    if (typeof s?.scope !== 'string' || typeof s.audience !== 'string') throw badRequest('every scope needs scope and audience');
    if (scopes.has(s.scope)) throw badRequest(`scope ${s.scope} is listed twice`);
    scopes.add(s.scope);
  }
  for (const e of doc.exchanges) {
    if (typeof e?.code !== 'string') throw badRequest('every exchange needs a code');
    if (e.scopes !== undefined && !Array.isArray(e.scopes)) throw badRequest(`exchange ${e.code}: scopes must be an array`);
    for (const s of e.scopes ?? []) if (!scopes.has(s)) throw badRequest(`exchange ${e.code} names unknown scope ${s}`);
  }
}

/** Publishes a successor; `version` defaults to the next one and may never go down. */
export async function publishAgreements(db: Queryable, doc: Omit<AgreementsDocument, 'version'> & { version?: number }, actor: string): Promise<AgreementsDocument> {
  const current = await currentAgreements(db);
  const next: AgreementsDocument = { ...doc, version: doc.version ?? current.version + 1, issuedAt: new Date().toISOString() } as AgreementsDocument;
  checkAgreements(next);
  if (next.version <= current.version) throw conflict(`version ${next.version} is not newer than the published ${current.version}`);
  const rows = await db.query(
    'INSERT INTO agreements (version, document, published_by) VALUES ($1, $2, $3) ON CONFLICT (version) DO NOTHING RETURNING version',
    [next.version, JSON.stringify(next), actor],
  );
  if (!rows.length) throw conflict(`version ${next.version} was published concurrently`);
  return next;
}

export async function changeNetworkSettings(
  db: Queryable,
  change: { consentMode?: ConsentMode; statusMaxAgeSeconds?: number },
  actor: string,
): Promise<AgreementsDocument> {
  const current = await currentAgreements(db);
  const { version: _old, ...rest } = current;
  const defined = Object.fromEntries(Object.entries(change).filter(([, v]) => v !== undefined));
  if (Object.keys(defined).length === 0) throw badRequest('name consentMode and/or statusMaxAgeSeconds');
  return publishAgreements(db, { ...rest, network: { ...current.network, ...defined } }, actor);
}
